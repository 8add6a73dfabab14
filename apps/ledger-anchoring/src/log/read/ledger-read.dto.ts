/**
 * The public read API's requests (zod, validated by ZodPipe into problem+json with JSON pointers) and responses.
 * The response shapes are a contract: the verifier CLI and third-party auditors parse them. Hashes and leaf bytes
 * are standard base64, as in C2SP; ranges are half-open, [start, end).
 */
import { z } from 'zod';
import { HASH_SIZE } from '@claimchain/ledger';

/** Most entries one request returns. */
export const MAX_ENTRIES_PER_REQUEST = 1000;

// Digits only: z.coerce.number would also take "1e3", " 5" or "0x10".
const Count = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,15})$/, 'Expected a non-negative integer')
  .transform(Number)
  .refine(Number.isSafeInteger, 'Too large');

// A '+' sent unencoded in a query string arrives as a space; put it back rather than fail on a client's slip.
const Base64Hash = z
  .string()
  .transform((s) => s.replace(/ /g, '+'))
  .refine((s) => {
    const bytes = Buffer.from(s, 'base64');
    return bytes.length === HASH_SIZE && bytes.toString('base64') === s;
  }, 'Expected the standard base64 of a 32-byte hash')
  .transform((s) => Buffer.from(s, 'base64'));

export const EntriesQuery = z
  .object({ start: Count, end: Count })
  .refine((q) => q.start <= q.end, { path: ['end'], message: 'Must not be below start' })
  .refine((q) => q.end - q.start <= MAX_ENTRIES_PER_REQUEST, {
    path: ['end'],
    message: `At most ${MAX_ENTRIES_PER_REQUEST} entries per request`,
  });
export type EntriesQuery = z.infer<typeof EntriesQuery>;

export const InclusionQuery = z
  .object({ index: Count.optional(), leafHash: Base64Hash.optional(), treeSize: Count.optional() })
  .refine((q) => (q.index === undefined) !== (q.leafHash === undefined), {
    path: ['index'],
    message: 'Give exactly one of index and leafHash',
  })
  .refine((q) => q.treeSize === undefined || q.treeSize > 0, { path: ['treeSize'], message: 'Must be positive' });
export type InclusionQuery = z.infer<typeof InclusionQuery>;

export const ConsistencyQuery = z
  .object({ from: Count, to: Count })
  .refine((q) => q.from <= q.to, { path: ['from'], message: 'Must not exceed to' });
export type ConsistencyQuery = z.infer<typeof ConsistencyQuery>;

export const ReceiptParams = z.object({ eventId: z.string().uuid() });
export type ReceiptParams = z.infer<typeof ReceiptParams>;

export interface CheckpointDto {
  origin: string;
  treeSize: number;
  rootHash: string;
  /** The C2SP signed note, as served with text/plain. */
  note: string;
}

export interface EntryDto {
  index: number;
  eventId: string;
  eventType: string;
  /** The leaf bytes: the RFC 8785 JSON commitment to the event. */
  leaf: string;
  leafHash: string;
}

export interface EntriesDto {
  /** [start, min(end, checkpointed size)): only entries a signed checkpoint covers. */
  entries: EntryDto[];
}

export interface InclusionProofDto {
  leafIndex: number;
  treeSize: number;
  leafHash: string;
  hashes: string[];
}

export interface ConsistencyProofDto {
  from: number;
  to: number;
  hashes: string[];
}

/** Everything needed to check offline, with the log's verifier key, that an event is in the log. */
export interface ReceiptDto {
  eventId: string;
  leafIndex: number;
  leaf: string;
  leafHash: string;
  treeSize: number;
  inclusionProof: string[];
  /** The signed note of the checkpoint of size treeSize. */
  checkpoint: string;
}

export const b64 = (bytes: Buffer): string => bytes.toString('base64');
