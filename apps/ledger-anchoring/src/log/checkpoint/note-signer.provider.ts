import { readFileSync } from 'node:fs';
import { LedgerAnchoringConfig } from '../../ledger-anchoring.config';
import { NoteSigner, parseSignerKey } from '@claimchain/ledger';

export const NOTE_SIGNER = Symbol('NOTE_SIGNER');

/**
 * The checkpoint signing key, read from the secret file LEDGER_SIGNING_KEY_FILE (golang sumdb note signer format:
 * `PRIVATE+KEY+<name>+<keyid>+<key>`). The key name must equal the log origin, as C2SP tlog-checkpoint expects.
 */
export function loadNoteSigner(config: LedgerAnchoringConfig): NoteSigner {
  const file = config.ledger.signingKeyFile;
  if (!file) {
    throw new Error(
      'LEDGER_SIGNING_KEY_FILE is not set: point it at the checkpoint signing key (npm start creates .cache/ledger/signing.key)',
    );
  }
  const signer = parseSignerKey(readFileSync(file, 'utf8').trim());
  if (signer.name !== config.ledger.origin) {
    throw new Error(`signing key name "${signer.name}" differs from LEDGER_ORIGIN "${config.ledger.origin}"`);
  }
  return signer;
}
