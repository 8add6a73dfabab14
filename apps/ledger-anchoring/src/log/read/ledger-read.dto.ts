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

/** The query parameters as OpenAPI documents them; the cross-parameter rules are the refinements below. */
export const EntriesQueryFields = z.object({
  start: Count.describe('first index, inclusive'),
  end: Count.describe(`index after the last; end - start ≤ ${MAX_ENTRIES_PER_REQUEST}, and start ≤ end`),
});
export const EntriesQuery = EntriesQueryFields.refine((q) => q.start <= q.end, {
  path: ['end'],
  message: 'Must not be below start',
}).refine((q) => q.end - q.start <= MAX_ENTRIES_PER_REQUEST, {
  path: ['end'],
  message: `At most ${MAX_ENTRIES_PER_REQUEST} entries per request`,
});
export type EntriesQuery = z.infer<typeof EntriesQuery>;

export const InclusionQueryFields = z.object({
  index: Count.optional().describe('the leaf index; give exactly one of index and leafHash'),
  leafHash: Base64Hash.optional().describe(
    'the leaf hash, standard base64 of 32 bytes (URL-encode the +, or it is taken back from a space); give exactly one of index and leafHash',
  ),
  treeSize: Count.optional().describe("a signed tree size, positive; default: the latest checkpoint's"),
});
export const InclusionQuery = InclusionQueryFields.refine(
  (q) => (q.index === undefined) !== (q.leafHash === undefined),
  {
    path: ['index'],
    message: 'Give exactly one of index and leafHash',
  },
).refine((q) => q.treeSize === undefined || q.treeSize > 0, { path: ['treeSize'], message: 'Must be positive' });
export type InclusionQuery = z.infer<typeof InclusionQuery>;

export const ConsistencyQueryFields = z.object({
  from: Count.describe('the earlier tree size, at most to'),
  to: Count.describe("the later tree size, at most the latest checkpoint's"),
});
export const ConsistencyQuery = ConsistencyQueryFields.refine((q) => q.from <= q.to, {
  path: ['from'],
  message: 'Must not exceed to',
});
export type ConsistencyQuery = z.infer<typeof ConsistencyQuery>;

export const ReceiptParams = z.object({ eventId: z.string().uuid() });
export type ReceiptParams = z.infer<typeof ReceiptParams>;

// Responses: the zod schemas document them in OpenAPI (nothing parses them here); the types are inferred from them.
const Hash = z.string().describe('standard base64 of a 32-byte SHA-256 hash');
const Size = z.number().int().nonnegative();

export const CheckpointDto = z.object({
  origin: z.string(),
  treeSize: Size,
  rootHash: Hash,
  note: z.string().describe('the C2SP signed note, as served with text/plain'),
});
export type CheckpointDto = z.infer<typeof CheckpointDto>;

export const EntryDto = z.object({
  index: Size,
  eventId: z.string(),
  eventType: z.string(),
  leaf: z.string().describe('the leaf bytes, base64: the RFC 8785 JSON commitment to the event'),
  leafHash: Hash,
});
export type EntryDto = z.infer<typeof EntryDto>;

export const EntriesDto = z.object({
  entries: z.array(EntryDto).describe('[start, min(end, checkpointed size)): only entries a signed checkpoint covers'),
});
export type EntriesDto = z.infer<typeof EntriesDto>;

export const InclusionProofDto = z.object({
  leafIndex: Size,
  treeSize: Size,
  leafHash: Hash,
  hashes: z.array(Hash).describe('the RFC 9162 §2.1.3 inclusion path, leaf to root'),
});
export type InclusionProofDto = z.infer<typeof InclusionProofDto>;

export const ConsistencyProofDto = z.object({
  from: Size,
  to: Size,
  hashes: z.array(Hash).describe('the RFC 9162 §2.1.4 consistency path; empty when from is 0 or equals to'),
});
export type ConsistencyProofDto = z.infer<typeof ConsistencyProofDto>;

/** Everything needed to check offline, with the log's verifier key, that an event is in the log. */
export const ReceiptDto = z.object({
  eventId: z.string().uuid(),
  leafIndex: Size,
  leaf: z.string().describe('the leaf bytes, base64'),
  leafHash: Hash,
  treeSize: Size,
  inclusionProof: z.array(Hash),
  checkpoint: z.string().describe('the signed note of the checkpoint of size treeSize'),
});
export type ReceiptDto = z.infer<typeof ReceiptDto>;

export const b64 = (bytes: Buffer): string => bytes.toString('base64');
