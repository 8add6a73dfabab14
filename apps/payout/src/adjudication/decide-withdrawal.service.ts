import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import {
  CloudEvent,
  PayoutWithdrawalDecidedV1,
  TopicName,
  Topics,
  TreatmentWithdrawalRequestedV1,
  claimIdOf,
} from '@claimchain/wire';
import { buildEvent, OutboxWriter } from '@claimchain/messaging';
import { PAYOUT_SOURCE } from '../payout.source';
import { AdjudicationRepository } from './adjudication.repository';

/**
 * A provider's withdrawal of its verification is a request until payout answers it (`payouts.withdrawal-decided.v1`,
 * ADR 22), decided like a cancellation (DecideCancellationService, beside it): in the consumer's inbox transaction,
 * under the claims' locks, before the batch's adjudications.
 * - Not decided yet (payout may not have the verification or its anchor yet): payout forgets that verification and
 *   never stores it if it comes later; the claim waits for a new one (the provider's correction), answer `stopped`.
 * - Pended for review on this verification, not reviewed, not cancelled: the pended decision is set aside (ADR 25),
 *   then as above, answer `stopped` with `setAside: 'pended'`. No reviewer can pay a claim on a verification its
 *   provider took back; the correction's verification decides the claim afresh.
 * - Decided, or pended and reviewed or cancelled since: answer `refused`, with the decision and its payout; they
 *   stand.
 */
@Injectable()
export class DecideWithdrawalService {
  constructor(
    private readonly claims: AdjudicationRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  /** Decides these withdrawals, in order; the caller holds their claims' locks and adjudicates only afterwards. */
  async decide(em: EntityManager, withdrawals: readonly CloudEvent<TreatmentWithdrawalRequestedV1>[]): Promise<void> {
    if (withdrawals.length === 0) return;
    const decided = await this.claims.decidedAtAll(em, [...new Set(withdrawals.map(claimIdOf))]);
    const answers: { topic: TopicName; event: CloudEvent }[] = [];
    const decidedAt = new Date();
    for (const withdrawal of withdrawals) {
      const { claimId, insurerId, providerId, confirmationId } = withdrawal.data;
      const base = {
        claimId,
        insurerId,
        providerId,
        confirmationId,
        withdrawalEventId: withdrawal.id,
        decidedAt: decidedAt.toISOString(),
      };
      const standing = decided.get(claimId);
      let data: PayoutWithdrawalDecidedV1;
      if (standing?.decision === 'pended' && (await this.claims.setAsidePendedDecision(em, withdrawal, decidedAt))) {
        decided.delete(claimId);
        await this.claims.rememberWithdrawal(em, withdrawal);
        data = { outcome: 'stopped', ...base, setAside: 'pended' };
      } else if (standing) {
        data = { outcome: 'refused', ...base, ...standing };
      } else {
        await this.claims.rememberWithdrawal(em, withdrawal);
        data = { outcome: 'stopped', ...base };
      }
      answers.push({
        topic: Topics.PayoutsWithdrawalDecided,
        event: buildEvent(Topics.PayoutsWithdrawalDecided, {
          source: PAYOUT_SOURCE,
          subject: claimId,
          tenantid: insurerId,
          time: decidedAt,
          causationid: withdrawal.id,
          data,
        }),
      });
    }
    await this.outbox.addBuilt(em, answers);
  }
}
