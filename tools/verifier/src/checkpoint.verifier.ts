/**
 * Opens a signed checkpoint with the auditor's key and nothing else: the signature must verify with that key, the
 * body must be a C2SP checkpoint, and its origin must be the log the key speaks for. Every failure names `where` the
 * note came from, so a message says which receipt entry or which fetch was forged.
 */
import { LedgerError, NoteVerifier, openNote, parseCheckpoint, ParsedCheckpoint } from '@claimchain/ledger';
import { VerifierError, VerifierErrorCode } from './verifier.errors';

export interface VerifiedCheckpoint extends ParsedCheckpoint {
  /** The signed note exactly as verified, fit to save and verify again later. */
  readonly note: string;
}

export function verifyCheckpointNote(
  note: string,
  verifier: NoteVerifier,
  origin: string,
  where: string,
  at?: VerifierError['at'],
  /** What a text that is not a signed note at all is: forged content (default), or an unusable input file. */
  notANote: VerifierErrorCode = 'VERIFIER.CHECKPOINT_INVALID',
): VerifiedCheckpoint {
  let text: string;
  try {
    text = openNote(note, [verifier]).text;
  } catch (err) {
    if (!(err instanceof LedgerError)) throw err;
    switch (err.code) {
      case 'LEDGER.NOTE_UNKNOWN_KEY':
        throw new VerifierError(
          'VERIFIER.SIGNATURE_INVALID',
          `${where}: checkpoint is not signed by ${keyLabel(verifier)}`,
          at,
        );
      case 'LEDGER.NOTE_BAD_SIGNATURE':
        throw new VerifierError(
          'VERIFIER.SIGNATURE_INVALID',
          `${where}: checkpoint signature by ${keyLabel(verifier)} does not verify`,
          at,
        );
      default:
        throw new VerifierError(notANote, `${where}: checkpoint is not a signed note (${err.message})`, at);
    }
  }
  let checkpoint: ParsedCheckpoint;
  try {
    checkpoint = parseCheckpoint(text);
  } catch (err) {
    if (!(err instanceof LedgerError)) throw err;
    throw new VerifierError('VERIFIER.CHECKPOINT_INVALID', `${where}: ${err.message}`, at);
  }
  if (checkpoint.origin !== origin) {
    throw new VerifierError(
      'VERIFIER.CHECKPOINT_INVALID',
      `${where}: checkpoint is for log ${JSON.stringify(checkpoint.origin)}, expected ${JSON.stringify(origin)}`,
      at,
    );
  }
  return { ...checkpoint, note };
}

function keyLabel(verifier: NoteVerifier): string {
  return `${verifier.name}+${verifier.keyId.toString(16).padStart(8, '0')}`;
}
