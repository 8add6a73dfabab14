/**
 * The claim lifecycle: submitted → verified | verification-rejected → pended (held for review, decision `pended`)
 * → adjudicated (decision approved | partial) or denied → payment-pending (payout released the payment, which has
 * not moved yet: on its rail, or awaiting one) → paid (the rail settled it) ⇄ payment-failed (the rail refused it on
 * every attempt; ops retrying it makes it payment-pending again, its settlement paid). An insurer's cancellation makes the
 * claim `cancel-requested` until payout answers (ADR 16): `cancelled` once payout stopped the payment, else the
 * decision payout had already made (adjudicated, denied, paid), with the refused cancellation in the timeline. Downstream events arrive on different topics and so in any order (a payout may be consumed before its
 * adjudication); a status only ever moves to a higher rank, so the read model never goes backwards. The one
 * exception is the payment state (PAYMENT_STATUSES), which follows the latest payment event by its time.
 */
export const CLAIM_STATUSES = [
  'submitted',
  'verified',
  'verification-rejected',
  'pended',
  'cancel-requested',
  'cancelled',
  'adjudicated',
  'denied',
  'payment-pending',
  'paid',
  'payment-failed',
] as const;
export type ClaimStatus = (typeof CLAIM_STATUSES)[number];

export const STATUS_RANK: Record<ClaimStatus, number> = {
  submitted: 0,
  'verification-rejected': 1,
  // Above a rejection: its provider may correct a rejected confirmation, which then verifies the claim (ADR 19).
  verified: 1.2,
  // Pended for human review: decided later (adjudicated or denied), or cancelled meanwhile.
  pended: 1.5,
  // Asked for, not yet answered by payout: above what may still happen before a decision (a verification, a pend),
  // below payout's answer (cancelled) and the decisions that make it refuse (adjudicated, denied, paid).
  'cancel-requested': 1.75,
  cancelled: 2,
  adjudicated: 2,
  denied: 2,
  // Released, not settled: a user is never told `paid` before the money moved. A release consumed after its
  // settlement (another topic) must not undo `paid`, so both share a rank; only payment events move between them.
  'payment-pending': 3,
  paid: 3,
  // Above paid: a failure is only ever announced after the release, so a late payouts.released.v1 must not undo it.
  'payment-failed': 4,
};

/** The statuses a payment event (failed, retried, settled) may replace one another with, newest first. */
export const PAYMENT_STATUSES: readonly ClaimStatus[] = ['payment-pending', 'paid', 'payment-failed'];

/** A claim in one of these can still be cancelled: nothing has been decided for payment yet. */
export const CANCELLABLE: readonly ClaimStatus[] = ['submitted', 'verified', 'pended'];

/**
 * Claims in these states will never be paid, so a new claim for the same service is not a duplicate of them.
 * `cancel-requested` is not among them: until payout confirms it stopped the payment, the claim may be paid.
 */
export const NEVER_PAID: readonly ClaimStatus[] = ['cancelled', 'verification-rejected', 'denied'];
