/**
 * Narrows a root mismatch down to one leaf. A leaf rewritten together with its stored hash is consistent row by row,
 * and the audit only learns that the tree of some signed size has another root. The log's stored subtree hashes
 * still describe the signed tree, so its consistency proofs can tell which prefixes of the served leaves are
 * genuine: a proof from size k to the signed size verifies only if the first k served leaves are the signed ones.
 * One more pass over the entries checks that at every page boundary, then a binary search inside the failing page
 * finds the first leaf no proof covers — O(n) time, O(log n) memory, O(n/page + log page) requests.
 *
 * A log serving bad proofs can only move the blame, never make the mismatch go away: it is found before this runs.
 */
import { appendLeaves, hashLeaf } from '@claimchain/ledger';
import { whyInconsistent } from './consistency.check';
import { LedgerHttpClient } from './ledger-http.client';
import { ExpectedRoot } from './served-log.auditor';
import { decodeBase64 } from './wire.codec';

/** The index of the first leaf whose prefix the log cannot prove consistent with `signed`. */
export async function locateRewrite(
  client: LedgerHttpClient,
  signed: ExpectedRoot,
  verifiedUpTo: number,
  pageSize: number,
): Promise<number> {
  const proven = async (size: number, root: Buffer): Promise<boolean> =>
    size <= verifiedUpTo || (await whyInconsistent(client, { size, root }, signed)) === undefined;

  let frontier: Buffer[] = [];
  let size = 0;
  while (size < signed.size) {
    const end = Math.min(size + pageSize, signed.size);
    const entries = (await client.entries(size, end)).slice(0, end - size);
    if (entries.length === 0) throw new Error(`the log served no entries from ${size}`);
    const leafHashes = entries.map((e) => hashLeaf(decodeBase64(e.leaf) ?? Buffer.alloc(0)));
    const page = appendLeaves(frontier, size, leafHashes);
    if (!(await proven(page.size, page.root))) {
      // Every prefix up to `size` is proven, the one up to `page.size` is not: find the first failing one between.
      let lo = size;
      let hi = page.size;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        const prefix = appendLeaves(frontier, size, leafHashes.slice(0, mid - size));
        if (await proven(mid, prefix.root)) lo = mid;
        else hi = mid;
      }
      return hi - 1;
    }
    frontier = page.frontier;
    size = page.size;
  }
  throw new Error(`every prefix up to ${signed.size} is proven consistent, yet the root differs`);
}
