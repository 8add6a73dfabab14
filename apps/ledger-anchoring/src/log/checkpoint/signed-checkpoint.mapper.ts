import { parseCheckpoint } from '@claimchain/ledger';
import { StoredCheckpoint } from '../../persistence/ledger.repository';
import { SignedCheckpoint } from '../anchor/anchor-sink';

/** A stored checkpoint row as the rest of the service sees it. The note is ours, so its body is trusted as is. */
export function toSignedCheckpoint(row: StoredCheckpoint): SignedCheckpoint {
  // The signed text ends at the note's last blank line; signatures follow it (C2SP signed-note).
  const body = row.note.slice(0, row.note.lastIndexOf('\n\n') + 1);
  return {
    origin: parseCheckpoint(body).origin,
    treeSize: Number(row.tree_size),
    rootHash: row.root_hash,
    note: row.note,
  };
}
