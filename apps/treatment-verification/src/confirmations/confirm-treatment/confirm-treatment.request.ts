import { z } from 'zod';
import { Attestation, CODE_MAX_LENGTH, CODE_SYSTEM_MAX_LENGTH, IsoDate } from '@claimchain/wire';

/**
 * Strict, as its OpenAPI document says (`additionalProperties: false`): a field the service does not know is refused
 * rather than dropped, so a provider never believes it attested something that was ignored.
 */
export const ConfirmTreatmentRequest = z
  .object({
    claimId: z.string().uuid(),
    performed: z
      .array(
        z
          .object({
            system: z.string().min(1).max(CODE_SYSTEM_MAX_LENGTH),
            code: z.string().min(1).max(CODE_MAX_LENGTH),
            quantity: z.number().int().positive(),
            performedAt: IsoDate,
          })
          .strict(),
      )
      .min(1)
      .max(500),
    /**
     * The provider's Ed25519 signature over this confirmation's statement (ADR 15: `npm run sign-confirmation` makes
     * one); required when the claim's insurer requires signed confirmations.
     */
    attestation: Attestation.optional(),
  })
  .strict();
export type ConfirmTreatmentRequest = z.infer<typeof ConfirmTreatmentRequest>;
