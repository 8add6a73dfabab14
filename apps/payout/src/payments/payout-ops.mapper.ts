import { PayoutRow } from './payment-dispatch.repository';

/** A payout as ops see it: where it is on its rail and why it failed. Amounts are decimal strings, never floats. */
export interface PayoutOpsDto {
  payoutId: string;
  claimId: string;
  insurerId: string;
  payeeId: string;
  amount: string;
  currency: string;
  status: string;
  rail: string | null;
  attempts: number;
  lastError: string | null;
  releasedAt: string;
  /** When the dispatcher next submits (or rechecks, or looks for a rail for) it; null once settled or failed. */
  nextAttemptAt: string | null;
  failedAt: string | null;
  settledAt: string | null;
  /** How often ops have retried it after a failure. */
  retries: number;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function toPayoutOpsDto(p: PayoutRow): PayoutOpsDto {
  return {
    payoutId: p.payoutId,
    claimId: p.claimId,
    insurerId: p.insurerId,
    payeeId: p.payeeId,
    amount: p.amount,
    currency: p.currency,
    status: p.status,
    rail: p.rail,
    attempts: p.attempts,
    lastError: p.lastError,
    releasedAt: new Date(p.releasedAt).toISOString(),
    nextAttemptAt: ['awaiting-rail', 'released', 'sent'].includes(p.status) ? iso(p.nextAttemptAt) : null,
    failedAt: iso(p.failedAt),
    settledAt: iso(p.settledAt),
    retries: p.retries,
  };
}
