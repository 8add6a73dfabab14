/**
 * The claim lifecycle: submitted → verified | verification-rejected → pended (held for review, decision `pended`)
 * → adjudicated (decision approved | partial) or denied → paid; cancelled by the insurer before payout. Downstream
 * events arrive on different topics and so in any order (a payout may be consumed before its adjudication); a
 * status only ever moves to a higher rank, so the read model never goes backwards.
 */
export const CLAIM_STATUSES = [
  'submitted',
  'verified',
  'verification-rejected',
  'pended',
  'cancelled',
  'adjudicated',
  'denied',
  'paid',
] as const;
export type ClaimStatus = (typeof CLAIM_STATUSES)[number];

export const STATUS_RANK: Record<ClaimStatus, number> = {
  submitted: 0,
  verified: 1,
  'verification-rejected': 1,
  // Pended for human review: decided later (adjudicated or denied), or cancelled meanwhile.
  pended: 1.5,
  cancelled: 2,
  adjudicated: 2,
  denied: 2,
  paid: 3,
};

/** A claim in one of these can still be cancelled: nothing has been decided for payment yet. */
export const CANCELLABLE: readonly ClaimStatus[] = ['submitted', 'verified', 'pended'];

/** Claims in these states will never be paid, so a new claim for the same service is not a duplicate of them. */
export const NEVER_PAID: readonly ClaimStatus[] = ['cancelled', 'verification-rejected', 'denied'];
