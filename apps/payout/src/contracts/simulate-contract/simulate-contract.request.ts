import { z } from 'zod';
import { ClaimSubmittedV1, CurrencyCode, IsoDate, MoneyAmount } from '@claimchain/wire';
import { CONTRACT_LIMITS } from '../../engine/contract.definition';

const Accumulator = z.object({ deductibleMet: MoneyAmount, benefitPaid: MoneyAmount }).strict();

/**
 * A claim to run through a contract without side effects, optionally under a hypothetical policy with given
 * plan-year accumulators (keyed by plan-year start date).
 */
export const SimulateContractRequest = z
  .object({
    claim: z
      .object({
        providerId: z.string().min(1),
        currency: CurrencyCode,
        patientPseudonym: z
          .string()
          .regex(/^[0-9a-f]{64}$/)
          .optional(),
        items: ClaimSubmittedV1.shape.items.max(CONTRACT_LIMITS.maxClaimLines),
        /** Whether the provider's confirmation carries a signed attestation (default true; ADR 26). */
        attested: z.boolean().optional(),
      })
      .strict(),
    policy: z
      .object({
        period: z.object({ start: IsoDate, end: IsoDate }).strict(),
        memberPseudonym: z
          .string()
          .regex(/^[0-9a-f]{64}$/)
          .optional(),
        accumulators: z.record(IsoDate, Accumulator).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type SimulateContractRequest = z.infer<typeof SimulateContractRequest>;
