import { Inject, Injectable, OnModuleDestroy, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  AuditedCheckpoint,
  AuditReport,
  HASH_SIZE,
  LedgerError,
  LogAuditor,
  NoteSigner,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  StoredNodeLookup,
  TreeNode,
} from '@claimchain/ledger';
import { LedgerRepository } from '../../persistence/ledger.repository';
import { NOTE_SIGNER } from '../checkpoint/note-signer.provider';
import { HashedLeafPage, LeafHashingThreads } from './leaf-hashing.threads';

/** Leaves per read: small enough that the first page (not overlapped with hashing) is short. */
const PAGE = 4096;
/** Pages in flight ahead of the one being hashed. */
const READ_AHEAD = 2;

export const EARLIER_VERIFIER_KEYS = Symbol('EARLIER_VERIFIER_KEYS');

/**
 * Audits the service's own tables from the inside: every leaf rehashed, every stored subtree recomputed, every
 * signed checkpoint's root matched, reporting the first index that does not match (the pure audit is
 * `LogAuditor` in @claimchain/ledger, which the verifier CLI runs against the public API). Checkpoint signatures
 * are checked with our own verifier key and the earlier ones configured (after a rotation), so a forged or edited
 * note fails loudly.
 */
@Injectable()
export class LedgerAuditService implements OnModuleDestroy {
  private readonly threads = new LeafHashingThreads();

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(LedgerRepository) private readonly repo: LedgerRepository,
    @Inject(NOTE_SIGNER) private readonly signer: NoteSigner,
    /** Earlier verifier keys (LEDGER_VERIFIER_KEY): checkpoints signed before a key rotation still verify. */
    @Optional() @Inject(EARLIER_VERIFIER_KEYS) private readonly earlierKeys: readonly string[] = [],
  ) {}

  async audit({ checkNodes = true, page = PAGE }: { checkNodes?: boolean; page?: number } = {}): Promise<AuditReport> {
    const em = this.dataSource.manager;
    const auditor = new LogAuditor(await this.verifiedCheckpoints());
    const size = await this.repo.size(em);
    // The leaves are read and rehashed on a worker thread (the second core), the tree is built here from their
    // hashes. Level-0 nodes are leaf hashes again: Postgres compares them with the leaves' and sends only the ones
    // that differ or are missing, so a page reads the nodes of level 1 up and these exceptions.
    const leaves = this.threads.hash(this.repo.pool(em), { from: 0, to: size, page, ahead: READ_AHEAD + 1 });
    const readNodes = (from: number) => {
      const to = Math.min(from + page, size);
      return Promise.all([
        this.repo.nodesCompletedBetween(em, from, to, { fromLevel: 1 }),
        this.repo.leafNodeMismatches(em, from, to),
      ]);
    };
    // Node pages are read ahead on pool connections of their own while this thread builds the tree.
    const ahead: ReturnType<typeof readNodes>[] = [];
    let nextFrom = 0;
    const refill = () => {
      for (; checkNodes && ahead.length < READ_AHEAD && nextFrom < size; nextFrom += page)
        ahead.push(readNodes(nextFrom));
    };
    try {
      refill();
      for await (const hashed of leaves) {
        const nodes = checkNodes ? await ahead.shift()! : undefined;
        refill();
        const lookup = nodes && lookupOf(hashed, ...nodes);
        // A deleted leaf shows as a short page: the auditor names the gap when the next index arrives.
        if (auditor.addLeafHashes(hashed.from, hashed.hashes, lookup)) break;
        // The entry the worker stopped at: add() names it, exactly as a one-thread audit would.
        if (hashed.stop && auditor.add([hashed.stop], lookup)) break;
      }
    } finally {
      await Promise.allSettled(ahead);
    }
    return auditor.finish();
  }

  async onModuleDestroy(): Promise<void> {
    await this.threads.close();
  }

  private async verifiedCheckpoints(): Promise<AuditedCheckpoint[]> {
    // The configured list usually names the signing key too (npm start sets it for every service): once is enough,
    // since a note refuses two verifiers for one key as ambiguous.
    const verifiers = [...new Set([this.signer.verifierKey, ...this.earlierKeys])].map(parseVerifierKey);
    const rows = await this.repo.checkpointsAfter(this.dataSource.manager, -1, Number.MAX_SAFE_INTEGER);
    return rows.map((row) => {
      try {
        const { size, root } = parseCheckpoint(openNote(row.note, verifiers).text);
        return { size, root };
      } catch (error) {
        if (error instanceof LedgerError) throw new StoredCheckpointError(Number(row.tree_size), error);
        throw error;
      }
    });
  }
}

/** A stored checkpoint whose note does not open (bad signature, unknown key, malformed): which one, and why. */
export class StoredCheckpointError extends LedgerError {
  constructor(
    readonly treeSize: number,
    cause: LedgerError,
  ) {
    super(cause.code, `stored checkpoint of tree size ${treeSize}: ${cause.message}`);
  }
}

/**
 * Stored nodes of one page, by level, as dense arrays from each level's first index. Level 0 is each leaf's own hash
 * (the worker checked it against the stored leaf hash), unless Postgres found that leaf's level-0 node missing
 * (undefined) or different (that hash).
 */
function lookupOf(
  page: HashedLeafPage,
  nodes: readonly TreeNode[],
  leafNodes: ReadonlyMap<number, Buffer | undefined>,
): StoredNodeLookup {
  const byLevel: { low: number; hashes: Buffer[] }[] = [];
  for (const n of nodes) {
    const level = (byLevel[n.level] ??= { low: n.index, hashes: [] });
    level.low = Math.min(level.low, n.index);
  }
  for (const n of nodes) byLevel[n.level].hashes[n.index - byLevel[n.level].low] = n.hash;
  const hashes = Buffer.from(page.hashes.buffer, page.hashes.byteOffset, page.hashes.length);
  const count = hashes.length / HASH_SIZE;
  return (level, index) => {
    if (level === 0) {
      if (leafNodes.has(index)) return leafNodes.get(index);
      const i = index - page.from;
      return i >= 0 && i < count ? hashes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE) : undefined;
    }
    const l = byLevel[level];
    return l ? l.hashes[index - l.low] : undefined;
  };
}
