import { openNote, parseCheckpoint, parseVerifierKey, verifyInclusion } from '@claimchain/ledger';

/**
 * What payout checks before paying on the ledger's word that a verification is recorded: the checkpoint names the
 * tree size and root of the anchor (signed by the ledger's key when one is configured), and the inclusion proof
 * leads from the verification's leaf to that root (RFC 9162). Pure; answers the problem or undefined.
 */
export interface AnchorEvidence {
  leafHash: string;
  leafIndex: number;
  treeSize: number;
  rootHash: string;
  inclusionProof: string[];
  checkpoint: string;
}

/** An anchor as stored: rows written before `ledger.anchored.v1` required the proof may lack it or the root. */
export type StoredAnchorEvidence = Omit<AnchorEvidence, 'rootHash' | 'inclusionProof'> & {
  rootHash: string | null;
  inclusionProof: string[] | null;
};

/**
 * The anchor with everything a check needs, or what it lacks. An anchor without its root or inclusion proof proves
 * nothing, so nothing is paid on it; but it is not evidence that the ledger lies either (anyone who can write to the
 * topic can send one), so it is refused on its own rather than opening the breaker for every claim.
 */
export function provableAnchor(e: StoredAnchorEvidence): AnchorEvidence | string {
  const { rootHash, inclusionProof } = e;
  if (rootHash === null) return `anchor of leaf ${e.leafIndex} carries no root hash: nothing is paid on it`;
  if (inclusionProof === null) return `anchor of leaf ${e.leafIndex} carries no inclusion proof: nothing is paid on it`;
  return { ...e, rootHash, inclusionProof };
}

/**
 * Notes already opened, by keys and text: every claim anchored by one checkpoint carries the same note, and opening
 * it costs an Ed25519 verification. Only notes that opened are kept (a bad one is checked again each time).
 */
const openedNotes = new Map<string, { size: number; root: string }>();
const OPENED_NOTES_KEPT = 256;

export function checkpointOf(note: string, verifierKeys: readonly string[] = []): { size: number; root: string } {
  const key = `${verifierKeys.join(',')}\n${note}`;
  const known = openedNotes.get(key);
  if (known) return known;
  // Without keys only the note's text is read; with them, a note none of them signed is refused.
  const text =
    verifierKeys.length > 0
      ? openNote(note, verifierKeys.map(parseVerifierKey)).text
      : note.slice(0, note.indexOf('\n\n') + 1);
  const checkpoint = parseCheckpoint(text);
  const opened = { size: checkpoint.size, root: checkpoint.root.toString('base64') };
  if (openedNotes.size >= OPENED_NOTES_KEPT) openedNotes.delete(openedNotes.keys().next().value!);
  openedNotes.set(key, opened);
  return opened;
}

export function checkAnchor(e: AnchorEvidence, verifierKeys: readonly string[] = []): string | undefined {
  let checkpoint: { size: number; root: string };
  try {
    checkpoint = checkpointOf(e.checkpoint, verifierKeys);
  } catch (error) {
    return `checkpoint does not verify: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (checkpoint.size !== e.treeSize) return `checkpoint size ${checkpoint.size} is not the anchor's ${e.treeSize}`;
  if (checkpoint.root !== e.rootHash) return 'checkpoint root is not the anchor root';
  try {
    verifyInclusion(
      Buffer.from(e.leafHash, 'base64'),
      e.leafIndex,
      e.treeSize,
      e.inclusionProof.map((h) => Buffer.from(h, 'base64')),
      Buffer.from(checkpoint.root, 'base64'),
    );
  } catch (error) {
    return `inclusion proof does not verify: ${error instanceof Error ? error.message : String(error)}`;
  }
  return undefined;
}
