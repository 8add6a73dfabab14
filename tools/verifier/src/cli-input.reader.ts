/**
 * The auditor's own inputs: the verifier key (given on the command line, never taken from what is being verified)
 * and files. Anything unusable here is an input error (exit 2), not a verification failure.
 */
import { readFile } from 'node:fs/promises';
import { LedgerError, NoteVerifier, parseVerifierKey } from '@claimchain/ledger';
import { VerifierError } from './verifier.errors';

export interface VerifierKey {
  /** `<name>+<hex key id>+<base64 key>` as given. */
  readonly text: string;
  readonly verifier: NoteVerifier;
}

/** `arg` is the key itself or `@<file>` holding it (surrounding white space ignored). */
export async function readVerifierKey(arg: string): Promise<VerifierKey> {
  const text = (arg.startsWith('@') ? await readTextFile(arg.slice(1), 'key file') : arg).trim();
  try {
    return { text, verifier: parseVerifierKey(text) };
  } catch (err) {
    if (!(err instanceof LedgerError)) throw err;
    throw new VerifierError(
      'VERIFIER.KEY_INVALID',
      `--key is not a note verifier key <name>+<keyid>+<key>: ${err.message}`,
    );
  }
}

export async function readTextFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new VerifierError('VERIFIER.INPUT_UNREADABLE', `cannot read ${what} ${path}: ${reason}`);
  }
}
