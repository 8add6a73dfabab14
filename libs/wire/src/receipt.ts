import { z } from 'zod';

/**
 * The claim receipt file, format `claimchain.receipt.v1`: everything needed to check offline that a claim's events
 * are in the ledger, given only the log's verifier key. claim-intake produces it (GET /v1/claims/:id/receipt),
 * `claimchain-verify receipt` checks it; the format is documented in tools/verifier/RECEIPT-FORMAT.md. This schema
 * checks shape only; whether the contents verify is the verifier's job.
 */
export const RECEIPT_FORMAT_V1 = 'claimchain.receipt.v1';

/** The CloudEvent attributes the ledger commits to; the rest of the event is carried along untouched. */
export const ReceiptEvent = z
  .object({
    id: z.string().min(1),
    type: z.string().min(1),
    subject: z.string().min(1),
    time: z.string().min(1),
    source: z.string().min(1),
    tenantid: z.string().nullish(),
    data: z.unknown(),
  })
  .passthrough()
  // z.unknown() lets a missing key through; an event without data has nothing for datahash to commit to.
  .refine((event) => event.data !== undefined, { message: 'Required', path: ['data'] });

export const ReceiptEntry = z.object({
  event: ReceiptEvent,
  leafIndex: z.number().int().nonnegative().safe(),
  treeSize: z.number().int().positive().safe(),
  inclusionProof: z.array(z.string()),
  checkpoint: z.string(),
  /**
   * The salt of the entry's leaf (v2, salted: 64 lowercase hex digits), without which its datahash cannot be
   * recomputed; absent for a v1 (unsalted) leaf. Optional within `claimchain.receipt.v1` since 2026-12-05 (ADR 16).
   * Secret: whoever holds it can confirm guesses of the event's data against the public ledger.
   */
  dataSalt: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

export const ClaimReceiptV1 = z.object({
  format: z.literal(RECEIPT_FORMAT_V1),
  claimId: z.string().min(1),
  verifierKey: z.string(),
  entries: z.array(ReceiptEntry).min(1),
});

export type ClaimReceiptV1 = z.infer<typeof ClaimReceiptV1>;
export type ReceiptEntry = z.infer<typeof ReceiptEntry>;
