import { Histogram, Registry } from 'prom-client';
import { EntityManager } from 'typeorm';
import { afterCommit } from '@claimchain/observability';

/** From seconds to an hour: a claim is paid in seconds when all goes well, and may wait for a provider for long. */
const SUBMIT_TO_PAID_BUCKETS_SECONDS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * The end-to-end latency the insurer sees: from claim-intake accepting a claim to the rail settling its payment
 * (`payouts.settled.v1`'s settledAt), observed by the status read model, counted once its transaction commits. The
 * submit→paid SLO is read from it (docs/operations.md).
 */
export class ClaimFlowMetrics {
  private readonly submitToPaid: Histogram;

  constructor(registry: Registry) {
    this.submitToPaid = new Histogram({
      name: 'claimchain_claim_submit_to_paid_seconds',
      help: 'Time from a claim accepted by claim-intake to its payment settled by the payment rail',
      buckets: SUBMIT_TO_PAID_BUCKETS_SECONDS,
      registers: [registry],
    });
  }

  paid(em: EntityManager, submittedAt: Date, settledAt: Date): void {
    const seconds = Math.max(0, (settledAt.getTime() - submittedAt.getTime()) / 1000);
    afterCommit(em, () => this.submitToPaid.observe(seconds));
  }
}
