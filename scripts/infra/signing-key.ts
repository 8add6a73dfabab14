/**
 * The ledger service's checkpoint signing key for local runs: created once (mode 0600) and kept, so checkpoints
 * signed in one run still verify in the next.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateNoteKey } from '@claimchain/ledger';

/** Returns true if it created the file. Fails if an existing key was made for another origin name. */
export function ensureSigningKey(file: string, origin: string): boolean {
  if (existsSync(file)) {
    // Signer keys read `PRIVATE+KEY+<name>+<hash>+<key>` (golang.org/x/mod/sumdb/note).
    const name = readFileSync(file, 'utf8').trim().split('+')[2];
    if (name !== origin)
      throw new Error(`${file} holds a signing key for "${name}", not "${origin}": delete it to make a new one`);
    return false;
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const { signerKey } = generateNoteKey(origin);
  writeFileSync(file, `${signerKey}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return true;
}
