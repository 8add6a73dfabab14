/**
 * Checkpoints an auditor keeps between runs: the signed note exactly as the log served it, so it verifies again
 * later with the same key and nobody has to trust the file it sits in.
 */
import { readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NoteVerifier } from '@claimchain/ledger';
import { VerifiedCheckpoint, verifyCheckpointNote } from './checkpoint.verifier';
import { readTextFile } from './cli-input.reader';
import { VerifierError } from './verifier.errors';

export async function readSavedCheckpoint(
  path: string,
  verifier: NoteVerifier,
  origin: string,
): Promise<VerifiedCheckpoint> {
  const note = await readTextFile(path, 'checkpoint file');
  return verifyCheckpointNote(note, verifier, origin, `saved checkpoint ${path}`, undefined, 'VERIFIER.INPUT_INVALID');
}

/**
 * The checkpoint files in `dir`, as the ledger's directory anchor sink writes them (`<treeSize>.checkpoint`, the signed
 * note byte for byte). Their names are not trusted: each file is verified for what it contains.
 */
export async function listCheckpointFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new VerifierError('VERIFIER.INPUT_UNREADABLE', `cannot read checkpoint directory ${dir}: ${reason}`);
  }
  return names
    .filter((name) => name.endsWith('.checkpoint'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((name) => join(dir, name));
}

/** Replaces `path` atomically, so an interrupted run never leaves half a checkpoint behind. */
export async function saveCheckpoint(path: string, checkpoint: VerifiedCheckpoint): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temp, checkpoint.note, 'utf8');
    await rename(temp, path);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new VerifierError('VERIFIER.OUTPUT_UNWRITABLE', `cannot save the checkpoint to ${path}: ${reason}`);
  }
}
