/**
 * The public read API's requests (zod, validated by ZodPipe into problem+json with JSON pointers). The responses,
 * routes and page limit are a contract the verifier CLI, payout and third-party auditors rely on: they live in
 * libs/wire (ledger-api.ts). Hashes and leaf bytes are standard base64, as in C2SP; ranges are half-open.
 */
import { z } from 'zod';
import { LEDGER_MAX_ENTRIES_PER_REQUEST as MAX_ENTRIES_PER_REQUEST } from '@claimchain/wire';
import { HASH_SIZE } from '@claimchain/ledger';

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

// Responses: the shapes are the contract in libs/wire (ledger-api.ts), which payout and the verifier parse with.
export {
  CheckpointDto,
  ConsistencyProofDto,
  EntriesDto,
  EntryDto,
  InclusionProofDto,
  ReceiptDto,
} from '@claimchain/wire';

export const b64 = (bytes: Buffer): string => bytes.toString('base64');
