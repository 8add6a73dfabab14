/**
 * Offline verification of a claim receipt with nothing but the log's verifier key. For each entry: the event is
 * about the receipt's claim, its checkpoint is signed by the key and is of the stated tree size, and the inclusion
 * proof leads from the leaf recomputed from the event to that checkpoint's root. Across entries, two signed
 * checkpoints that disagree (same size, different roots; same leaf index, different leaves) prove the log forked.
 */
import { LedgerError, leafHashOfEvent, verifyInclusion } from '@claimchain/ledger';
import { verifyCheckpointNote } from './checkpoint.verifier';
import { ClaimReceiptV1 } from './claim-receipt.schema';
import { VerifierKey } from './cli-input.reader';
import { VerifierError } from './verifier.errors';
import { decodeHash } from './wire.codec';

export interface ReceiptReport {
  readonly claimId: string;
  readonly events: { eventId: string; type: string; leafIndex: number; treeSize: number }[];
  /** The distinct checkpoints the receipt's proofs lead to, smallest first. */
  readonly checkpoints: { size: number; root: string }[];
  readonly warnings: string[];
}

export function verifyClaimReceipt(receipt: ClaimReceiptV1, key: VerifierKey, origin: string): ReceiptReport {
  const warnings: string[] = [];
  if (receipt.verifierKey.trim() !== key.text) {
    warnings.push(`the receipt names verifier key ${receipt.verifierKey}; it was ignored and --key used instead`);
  }
  const rootBySize = new Map<number, { root: Buffer; entry: number }>();
  const leafByIndex = new Map<number, { leafHash: Buffer; entry: number }>();

  receipt.entries.forEach((entry, i) => {
    const at = { entry: i, leafIndex: entry.leafIndex };
    const where = `entry ${i} (event ${entry.event.id})`;
    if (entry.event.subject !== receipt.claimId) {
      throw new VerifierError(
        'VERIFIER.SUBJECT_MISMATCH',
        `${where}: event is about ${JSON.stringify(entry.event.subject)}, not claim ${JSON.stringify(receipt.claimId)}`,
        at,
      );
    }
    const checkpoint = verifyCheckpointNote(entry.checkpoint, key.verifier, origin, where, at);
    if (checkpoint.size !== entry.treeSize) {
      throw new VerifierError(
        'VERIFIER.TREE_SIZE_MISMATCH',
        `${where}: treeSize is ${entry.treeSize} but its checkpoint is for tree size ${checkpoint.size}`,
        at,
      );
    }
    const proof = entry.inclusionProof.map((element, j) => {
      const hash = decodeHash(element);
      if (hash === null) {
        throw new VerifierError(
          'VERIFIER.INCLUSION_INVALID',
          `${where}: inclusion proof element ${j} is not the base64 of a 32-byte hash`,
          at,
        );
      }
      return hash;
    });
    // The schema has already rejected a missing data; zod's type leaves it optional all the same.
    // A salted (v2) leaf commits to HMAC(salt, data): the receipt carries the salt; without one the leaf is v1.
    const salt = entry.dataSalt === undefined ? null : Buffer.from(entry.dataSalt, 'hex');
    const leafHash = leafHashOfEvent({ ...entry.event, data: entry.event.data }, salt);
    try {
      verifyInclusion(leafHash, entry.leafIndex, entry.treeSize, proof, checkpoint.root);
    } catch (err) {
      if (!(err instanceof LedgerError)) throw err;
      throw new VerifierError(
        'VERIFIER.INCLUSION_INVALID',
        `${where}: not proven at leaf ${entry.leafIndex} of the tree of size ${entry.treeSize}: ${err.message}` +
          (err.code === 'LEDGER.ROOT_MISMATCH' ? ' (the event was altered, or the proof or its position forged)' : ''),
        at,
      );
    }

    const sameSize = rootBySize.get(checkpoint.size);
    if (sameSize && !sameSize.root.equals(checkpoint.root)) {
      throw forked(
        `entries ${sameSize.entry} and ${i} carry signed checkpoints of size ${checkpoint.size} with different roots`,
        at,
      );
    }
    rootBySize.set(checkpoint.size, { root: checkpoint.root, entry: i });
    const sameLeaf = leafByIndex.get(entry.leafIndex);
    if (sameLeaf && !sameLeaf.leafHash.equals(leafHash)) {
      throw forked(
        `entries ${sameLeaf.entry} and ${i} are proven at leaf ${entry.leafIndex} with different events`,
        at,
      );
    }
    leafByIndex.set(entry.leafIndex, { leafHash, entry: i });
  });

  return {
    claimId: receipt.claimId,
    events: receipt.entries.map((e) => ({
      eventId: e.event.id,
      type: e.event.type,
      leafIndex: e.leafIndex,
      treeSize: e.treeSize,
    })),
    checkpoints: [...rootBySize.entries()]
      .sort(([a], [b]) => a - b)
      .map(([size, { root }]) => ({ size, root: root.toString('base64') })),
    warnings,
  };
}

function forked(what: string, at: VerifierError['at']): VerifierError {
  return new VerifierError('VERIFIER.LOG_FORKED', `${what}: the log has shown two different histories`, at);
}
