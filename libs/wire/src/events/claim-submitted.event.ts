import { z } from 'zod';
import { CodingRef, CurrencyCode, IsoDate, MoneyAmount } from '../money';

/** FHIR R4's claim-type CodeSystem: the claim's kind, which its remittance (ClaimResponse.type) repeats. */
export const CLAIM_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/claim-type';
export const ClaimType = z.enum(['institutional', 'oral', 'pharmacy', 'professional', 'vision']);
export type ClaimType = z.infer<typeof ClaimType>;

/** A claim accepted by claim-intake. The patient travels only as a keyed pseudonym, never in clear. */
export const ClaimSubmittedV1 = z.object({
  claimId: z.string().uuid(),
  insurerId: z.string().min(1),
  providerId: z.string().min(1),
  patientPseudonym: z.string().regex(/^[0-9a-f]{64}$/),
  coverage: z.string().min(1),
  currency: CurrencyCode,
  total: MoneyAmount,
  items: z
    .array(
      CodingRef.extend({
        sequence: z.number().int().positive(),
        servicedDate: IsoDate,
        quantity: z.number().int().positive(),
        unitPrice: MoneyAmount,
        net: MoneyAmount,
      }),
    )
    .min(1),
  submittedAt: z.string().datetime({ offset: true }),
  /**
   * The claim's `type` when it uses the claim-type CodeSystem. Optional (added in v1, so earlier events stay valid;
   * their remittance says `professional`).
   */
  claimType: ClaimType.optional(),
  /**
   * A hiding commitment to the insurer's submission exactly as sent: hex SHA-256 of (salt ‖ bytes), with a random
   * 16-byte salt that claim-intake keeps beside the bytes (GET /v1/claims/{id}/submission returns both), so the
   * ledger proves the stored submission was never altered without revealing anything about it.
   */
  submissionCommitment: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});
export type ClaimSubmittedV1 = z.infer<typeof ClaimSubmittedV1>;

/** The insurer withdrew the claim before payout. Payout pays nothing for it unless it already had. */
export const ClaimCancelledV1 = z.object({
  claimId: z.string().uuid(),
  insurerId: z.string().min(1),
  reason: z.string().min(1).max(500),
  cancelledAt: z.string().datetime({ offset: true }),
});
export type ClaimCancelledV1 = z.infer<typeof ClaimCancelledV1>;
