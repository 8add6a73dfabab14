/**
 * Asking the log to prove that one signed tree extends another, and checking the proof (RFC 9162 §2.1.4.2). Shared by
 * the consistency command and the audit's rewrite locator. Network failures propagate; a proof that does not
 * verify — including elements that are not base64 of 32 bytes — is an answer, not an error.
 */
import { LedgerError, verifyConsistency } from '@claimchain/ledger';
import { LedgerHttpClient } from './ledger-http.client';
import { decodeHash } from './wire.codec';

export interface SizedRoot {
  readonly size: number;
  readonly root: Buffer;
}

/** Why the log cannot prove that `later` extends `earlier`, or undefined when it can. */
export async function whyInconsistent(
  client: LedgerHttpClient,
  earlier: SizedRoot,
  later: SizedRoot,
): Promise<string | undefined> {
  // Nothing to ask for an empty earlier tree or equal sizes: the roots say it all.
  const needsProof = earlier.size > 0 && earlier.size < later.size;
  const proof = needsProof ? await client.consistencyProof(earlier.size, later.size) : [];
  const bad = proof.findIndex((h) => decodeHash(h) === null);
  if (bad >= 0) return `consistency proof element ${bad} is not the base64 of a 32-byte hash`;
  try {
    verifyConsistency(
      earlier.size,
      later.size,
      proof.map((h) => decodeHash(h)!),
      earlier.root,
      later.root,
    );
    return undefined;
  } catch (err) {
    if (err instanceof LedgerError) return err.message;
    throw err;
  }
}
