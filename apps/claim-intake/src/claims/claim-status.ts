/**
 * A claim's status only moves forward. Downstream events arrive on different topics and so in any order (a payout
 * may be consumed before its adjudication); ranking statuses keeps the read model from going backwards.
 */
export const CLAIM_STATUSES = ['submitted', 'verified', 'rejected', 'adjudicated', 'denied', 'paid'] as const;
export type ClaimStatus = (typeof CLAIM_STATUSES)[number];

export const STATUS_RANK: Record<ClaimStatus, number> = {
  submitted: 0,
  verified: 1,
  rejected: 1,
  adjudicated: 2,
  denied: 2,
  paid: 3,
};
