import { z } from 'zod';
import { CodingRef, CurrencyCode, MoneyAmount } from '../money';

/** A contract became available for adjudication; its id is the SHA-256 of its canonical JSON. */
export const ContractPublishedV1 = z.object({
  contractId: z.string().regex(/^[0-9a-f]{64}$/),
  insurerId: z.string().min(1),
  name: z.string().min(1),
  version: z.string().min(1),
  definition: z.record(z.unknown()),
  publishedAt: z.string().datetime({ offset: true }),
});
export type ContractPublishedV1 = z.infer<typeof ContractPublishedV1>;

export const AdjudicationDecision = z.enum(['approved', 'partial', 'denied']);

export const ClaimAdjudicatedV1 = z.object({
  claimId: z.string().uuid(),
  contractId: z.string().regex(/^[0-9a-f]{64}$/),
  verifiedEventId: z.string().uuid(),
  decision: AdjudicationDecision,
  currency: CurrencyCode,
  submitted: MoneyAmount,
  payable: MoneyAmount,
  lines: z.array(
    CodingRef.extend({
      sequence: z.number().int().positive(),
      submitted: MoneyAmount,
      benefit: MoneyAmount,
      reasons: z.array(z.string()),
    }),
  ),
  adjudicatedAt: z.string().datetime({ offset: true }),
});
export type ClaimAdjudicatedV1 = z.infer<typeof ClaimAdjudicatedV1>;

export const PayoutReleasedV1 = z.object({
  claimId: z.string().uuid(),
  payoutId: z.string().uuid(),
  contractId: z.string().regex(/^[0-9a-f]{64}$/),
  payeeId: z.string().min(1),
  amount: MoneyAmount,
  currency: CurrencyCode,
  releasedAt: z.string().datetime({ offset: true }),
});
export type PayoutReleasedV1 = z.infer<typeof PayoutReleasedV1>;
