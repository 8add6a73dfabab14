/**
 * Decoding the base64 hashes that receipts and the log's API carry. Only the one canonical spelling is accepted
 * (Buffer.from would skip junk and missing padding), so a hash has exactly one textual form.
 */
import { HASH_SIZE } from '@claimchain/ledger';

export function decodeBase64(s: string): Buffer | null {
  const bytes = Buffer.from(s, 'base64');
  return bytes.toString('base64') === s ? bytes : null;
}

/** A 32-byte hash, or null when `s` is not the canonical base64 of one. */
export function decodeHash(s: string): Buffer | null {
  const bytes = decodeBase64(s);
  return bytes !== null && bytes.length === HASH_SIZE ? bytes : null;
}
