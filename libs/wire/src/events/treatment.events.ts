import { z } from 'zod';
import { CodingRef, IsoDate } from '../money';

/**
 * The provider confirmed at least one claimed line: `items` are the verified lines, matched line by line against the
 * claim; payout pays only those. Until 2026-12-05 a claim was verified only when every line was; since then the
 * lines not verified are listed in `unverified` (added within v1 with `unclaimed`, ADR 19: both absent when every
 * line was verified and nothing else was performed, so such an event is as before).
 */
export const TreatmentVerifiedV1 = z.object({
  claimId: z.string().uuid(),
  confirmationId: z.string().uuid(),
  providerId: z.string().min(1),
  items: z
    .array(
      CodingRef.extend({
        sequence: z.number().int().positive(),
        quantity: z.number().int().positive(),
        performedAt: IsoDate,
      }),
    )
    .min(1),
  verifiedAt: z.string().datetime({ offset: true }),
  /**
   * The provider's signed attestation, when it signed one: hex SHA-256 of its JCS (attestationHash), so the ledger
   * commits to exactly what the provider attested. Optional and added within v1 (2026-12-05): older consumers ignore
   * it, and unsigned confirmations have none.
   */
  attestationHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /** Claimed lines the confirmation did not cover, each with a stable reason code (NOT_PERFORMED, DATE_MISMATCH,
   * QUANTITY_SHORT): payout denies them. Absent when every line was verified. */
  unverified: z
    .array(z.object({ sequence: z.number().int().positive(), code: z.string().min(1), message: z.string() }))
    .min(1)
    .optional(),
  /** What the provider said it performed that no claimed line used: reported, not paid. Absent when none. */
  unclaimed: z
    .array(CodingRef.extend({ quantity: z.number().int().positive(), performedAt: IsoDate }))
    .min(1)
    .optional(),
});
export type TreatmentVerifiedV1 = z.infer<typeof TreatmentVerifiedV1>;

/** The confirmation did not match the claim; each reason names the claim line it concerns. */
export const TreatmentRejectedV1 = z.object({
  claimId: z.string().uuid(),
  confirmationId: z.string().uuid(),
  providerId: z.string().min(1),
  reasons: z
    .array(z.object({ sequence: z.number().int().positive().optional(), code: z.string(), message: z.string() }))
    .min(1),
  rejectedAt: z.string().datetime({ offset: true }),
});
export type TreatmentRejectedV1 = z.infer<typeof TreatmentRejectedV1>;

/**
 * A provider asks to withdraw its verified confirmation before payout pays on it (issue 15 item 4, ADR 22): a
 * request until payout answers (`payouts.withdrawal-decided.v1`), exactly like an insurer's cancellation. Names the
 * confirmation whose `treatments.verified.v1` it withdraws (the event carries its `confirmationId`), which payout then
 * never pays on if it has not decided the claim yet. Recorded on the ledger.
 */
export const TreatmentWithdrawalRequestedV1 = z.object({
  claimId: z.string().uuid(),
  insurerId: z.string().min(1),
  providerId: z.string().min(1),
  confirmationId: z.string().uuid(),
  /** Why, in the provider's words, if it said. */
  reason: z.string().min(1).max(500).optional(),
  requestedAt: z.string().datetime({ offset: true }),
});
export type TreatmentWithdrawalRequestedV1 = z.infer<typeof TreatmentWithdrawalRequestedV1>;
