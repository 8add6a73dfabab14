/**
 * The ledger's expected failures. Each has a stable code so callers branch on `code`, never on message text, and the
 * edge (HTTP filter, Kafka handler) maps codes to statuses or DLQ decisions in one place.
 */
export const LEDGER_ERROR_CODES = [
  'LEDGER.SIZE_INVALID',
  'LEDGER.INDEX_OUT_OF_RANGE',
  'LEDGER.SIZES_OUT_OF_ORDER',
  'LEDGER.HASH_WRONG_SIZE',
  'LEDGER.PROOF_WRONG_SIZE',
  'LEDGER.ROOT_MISMATCH',
  'LEDGER.NODE_COUNT_MISMATCH',
  'LEDGER.FRONTIER_MISMATCH',
  'LEDGER.EVENT_NOT_COMMITTABLE',
  'LEDGER.KEY_MALFORMED',
  'LEDGER.KEY_UNKNOWN_ALGORITHM',
  'LEDGER.KEY_ID_MISMATCH',
  'LEDGER.NOTE_MALFORMED',
  'LEDGER.NOTE_UNKNOWN_KEY',
  'LEDGER.NOTE_AMBIGUOUS_KEY',
  'LEDGER.NOTE_BAD_SIGNATURE',
  'LEDGER.CHECKPOINT_MALFORMED',
] as const;

export type LedgerErrorCode = (typeof LEDGER_ERROR_CODES)[number];

export class LedgerError extends Error {
  override readonly name = 'LedgerError';

  constructor(
    readonly code: LedgerErrorCode,
    message: string,
  ) {
    super(message);
  }
}
