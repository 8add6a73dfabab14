import { z } from 'zod';

/**
 * ledger-anchoring's public read API as a contract: its routes, its page limit and the shapes of its answers. The
 * ledger serves them (and documents them in OpenAPI from these schemas); payout and the verifier CLI ask for them
 * and parse the answers with the same schemas, so the three cannot drift apart. Hashes and leaf bytes are standard
 * base64, as in C2SP; ranges are half-open, [start, end).
 */

/** The routes, under the `v1/ledger` prefix (the controller's path); `ledgerPath` gives the absolute path. */
export const LEDGER_API_PREFIX = 'v1/ledger';
export const LedgerRoutes = {
  checkpoint: 'checkpoint',
  publicKey: 'public-key',
  entries: 'entries',
  inclusionProof: 'proofs/inclusion',
  consistencyProof: 'proofs/consistency',
  receipt: 'events/:eventId/receipt',
} as const;

/** `consistencyProof` → `/v1/ledger/proofs/consistency`. */
export function ledgerPath(route: keyof typeof LedgerRoutes): string {
  return `/${LEDGER_API_PREFIX}/${LedgerRoutes[route]}`;
}

/** Most entries one request returns; a client pages by it. */
export const LEDGER_MAX_ENTRIES_PER_REQUEST = 1000;

/** The standard base64 of a 32-byte SHA-256 hash: 43 characters and one `=`. */
export const LedgerHash = z
  .string()
  .regex(/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/, 'Expected the standard base64 of a 32-byte hash')
  .describe('standard base64 of a 32-byte SHA-256 hash');
const Size = z.number().int().nonnegative().safe();

export const CheckpointDto = z.object({
  origin: z.string(),
  treeSize: Size,
  rootHash: LedgerHash,
  note: z.string().describe('the C2SP signed note, as served with text/plain'),
});
export type CheckpointDto = z.infer<typeof CheckpointDto>;

export const EntryDto = z.object({
  index: Size,
  eventId: z.string(),
  eventType: z.string(),
  leaf: z.string().describe('the leaf bytes, base64: the RFC 8785 JSON commitment to the event'),
  leafHash: LedgerHash,
});
export type EntryDto = z.infer<typeof EntryDto>;

export const EntriesDto = z.object({
  entries: z.array(EntryDto).describe('[start, min(end, checkpointed size)): only entries a signed checkpoint covers'),
});
export type EntriesDto = z.infer<typeof EntriesDto>;

export const InclusionProofDto = z.object({
  leafIndex: Size,
  treeSize: Size,
  leafHash: LedgerHash,
  hashes: z.array(LedgerHash).describe('the RFC 9162 §2.1.3 inclusion path, leaf to root'),
});
export type InclusionProofDto = z.infer<typeof InclusionProofDto>;

export const ConsistencyProofDto = z.object({
  from: Size,
  to: Size,
  hashes: z.array(LedgerHash).describe('the RFC 9162 §2.1.4 consistency path; empty when from is 0 or equals to'),
});
export type ConsistencyProofDto = z.infer<typeof ConsistencyProofDto>;

/** Everything needed to check offline, with the log's verifier key, that an event is in the log. */
export const ReceiptDto = z.object({
  eventId: z.string().uuid(),
  leafIndex: Size,
  leaf: z.string().describe('the leaf bytes, base64'),
  leafHash: LedgerHash,
  treeSize: Size,
  inclusionProof: z.array(LedgerHash),
  checkpoint: z.string().describe('the signed note of the checkpoint of size treeSize'),
});
export type ReceiptDto = z.infer<typeof ReceiptDto>;
