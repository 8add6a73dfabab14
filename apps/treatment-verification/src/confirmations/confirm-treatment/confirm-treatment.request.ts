import { z } from 'zod';
import { Attestation, CODE_MAX_LENGTH, CODE_SYSTEM_MAX_LENGTH, IsoDate } from '@claimchain/contracts';

export const ConfirmTreatmentRequest = z.object({
  claimId: z.string().uuid(),
  performed: z
    .array(
      z.object({
        system: z.string().min(1).max(CODE_SYSTEM_MAX_LENGTH),
        code: z.string().min(1).max(CODE_MAX_LENGTH),
        quantity: z.number().int().positive(),
        performedAt: IsoDate,
      }),
    )
    .min(1)
    .max(500),
  /**
   * The provider's Ed25519 signature over this confirmation's statement (ADR 13: `npm run sign-confirmation` makes
   * one); required when the claim's insurer requires signed confirmations.
   */
  attestation: Attestation.optional(),
});
export type ConfirmTreatmentRequest = z.infer<typeof ConfirmTreatmentRequest>;
