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
  rootHash: string | null;
  inclusionProof: string[] | null;
  checkpoint: string;
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
  if (e.rootHash !== null && checkpoint.root !== e.rootHash) return 'checkpoint root is not the anchor root';
  // Anchors recorded before the ledger sent proofs carry none: only the leaf hash check applies to them.
  if (e.inclusionProof === null) return undefined;
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
