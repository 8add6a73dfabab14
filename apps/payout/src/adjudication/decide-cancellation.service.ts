import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import {
  ClaimCancelledV1,
  CloudEvent,
  PayoutCancellationDecidedV1,
  TopicName,
  Topics,
  claimIdOf,
} from '@claimchain/wire';
import { buildEvent, OutboxWriter } from '@claimchain/messaging';
import { PAYOUT_SOURCE } from '../payout.source';
import { AdjudicationRepository } from './adjudication.repository';

/**
 * An insurer's cancellation is a request until payout answers it (`payouts.cancellation-decided.v1`, ADR 16). Runs
 * in the consumer's inbox transaction, under the claims' locks, which adjudication and a review decision take too:
 * whichever of the cancellation and the decision for payment takes the lock first wins, and the other sees it.
 * - Not decided for payment yet (payout may never have seen the claim, it may wait for its verification or anchor,
 *   or be pended for review): the cancellation is recorded, nothing will be decided or paid, answer `stopped`.
 * - Already decided (adjudicated, denied, or reviewed): the decision and its payout stand, answer `refused` with them.
 */
@Injectable()
export class DecideCancellationService {
  constructor(
    private readonly claims: AdjudicationRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  /** Decides these cancellations, in order; the caller holds their claims' locks and adjudicates only afterwards. */
  async decide(em: EntityManager, cancellations: readonly CloudEvent<ClaimCancelledV1>[]): Promise<void> {
    if (cancellations.length === 0) return;
    const decided = await this.claims.decidedForPayment(em, [...new Set(cancellations.map(claimIdOf))]);
    const answers: { topic: TopicName; event: CloudEvent }[] = [];
    const decidedAt = new Date();
    for (const cancellation of cancellations) {
      const { claimId, insurerId } = cancellation.data;
      const base = { claimId, insurerId, cancellationEventId: cancellation.id, decidedAt: decidedAt.toISOString() };
      const standing = decided.get(claimId);
      let data: PayoutCancellationDecidedV1;
      if (standing) {
        data = { outcome: 'refused', ...base, ...standing };
      } else {
        await this.claims.rememberCancellation(em, cancellation);
        data = { outcome: 'stopped', ...base };
      }
      answers.push({
        topic: Topics.PayoutsCancellationDecided,
        event: buildEvent(Topics.PayoutsCancellationDecided, {
          source: PAYOUT_SOURCE,
          subject: claimId,
          tenantid: insurerId,
          time: decidedAt,
          data,
        }),
      });
    }
    await this.outbox.addBuilt(em, answers);
  }
}
