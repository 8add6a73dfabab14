import { z } from 'zod';
import { IsoDate } from '@claimchain/wire';

/**
 * A member enrolled on a contract for a period. Claims find their policy by `coverageId`: the id of the FHIR
 * Coverage the claim names as its focal insurance (`Coverage/<coverageId>`). `memberPseudonym`, when given, must be
 * the patient pseudonym claim-intake derives for this insurer (it is on each claim's events); claims for another
 * patient under this coverage are then denied (CO-31).
 */
export const EnrolPolicyRequest = z
  .object({
    coverageId: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'a FHIR id'),
    contractId: z.string().regex(/^[0-9a-f]{64}$/, 'a contract id (64 hex digits)'),
    memberPseudonym: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'a patient pseudonym (64 hex digits)')
      .optional(),
    period: z
      .object({ start: IsoDate, end: IsoDate })
      .strict()
      .refine((p) => p.start <= p.end, { message: 'must not end before it starts', path: ['end'] }),
  })
  .strict();
export type EnrolPolicyRequest = z.infer<typeof EnrolPolicyRequest>;
