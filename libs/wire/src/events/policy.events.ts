import { z } from 'zod';
import { IsoDate } from '../money';

/**
 * An insurer enrolled a member on a contract for a period (payout's `POST /v1/policies`). Recorded on the ledger so
 * it is provable which policy (and so which contract and period) a claim was adjudicated under. No PHI: the member
 * is the keyed patient pseudonym claim-intake derives, never a name or member number; `coverageId` is the FHIR
 * Coverage id claims name, as already carried by claims.submitted.v1.
 */
export const PolicyEnrolledV1 = z.object({
  policyId: z.string().uuid(),
  insurerId: z.string().min(1),
  coverageId: z.string().min(1),
  contractId: z.string().regex(/^[0-9a-f]{64}$/),
  memberPseudonym: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  period: z.object({ start: IsoDate, end: IsoDate }),
  enrolledAt: z.string().datetime({ offset: true }),
});
export type PolicyEnrolledV1 = z.infer<typeof PolicyEnrolledV1>;
