import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  CloudEvent,
  EventCatalog,
  PayoutCancellationDecidedV1,
  PayoutWithdrawalDecidedV1,
  Topics,
  claimIdOf,
} from '@claimchain/wire';
import { EventContext } from '@claimchain/messaging';
import { ConfirmationsRepository } from '../confirmations.repository';
import {
  cancellationRefused,
  WITHDRAWN_BEFORE_PAYOUT,
  WITHDRAWN_FROM_REVIEW,
  withdrawalRefused,
} from '../confirmation-reasons';

const WITHDRAWAL_DECIDED = EventCatalog[Topics.PayoutsWithdrawalDecided].type;

/**
 * Payout's answers to the requests that may stop a payment, so a confirmation shows what payout did (ADR 22):
 * - a provider's withdrawal of its verification: `withdrawn` (stopped: the claim is back on the provider's worklist
 *   and waits for a new confirmation; payout had not decided it, or set aside its pended decision, ADR 25) or
 *   `withdrawal-refused` (payout had decided the claim; the verification stands);
 * - an insurer's cancellation (ADR 16): a refused one (payout had decided the claim) makes the confirmation the
 *   cancellation had made `cancelled` verified again; a stopped one changes nothing (it is `cancelled` already).
 * Batched (ADR 8), under the claims' locks, so it cannot interleave with a confirmation or a withdrawal of the claim.
 */
@Controller()
export class PayoutAnswersConsumer {
  constructor(private readonly repo: ConfirmationsRepository) {}

  @EventPattern([Topics.PayoutsWithdrawalDecided, Topics.PayoutsCancellationDecided], { batch: true })
  async handle(@Payload() events: CloudEvent[], @Ctx() ctx: EventContext): Promise<void> {
    await this.repo.lockClaimIds(ctx.em, [...new Set(events.map(claimIdOf))]);
    const withdrawals: Parameters<ConfirmationsRepository['settleWithdrawals']>[1][number][] = [];
    const refusedCancellations: Parameters<ConfirmationsRepository['cancellationsRefused']>[1][number][] = [];
    for (const event of events) {
      if (event.type === WITHDRAWAL_DECIDED) {
        const d = event.data as PayoutWithdrawalDecidedV1;
        withdrawals.push(
          d.outcome === 'stopped'
            ? {
                confirmationId: d.confirmationId,
                outcome: 'withdrawn',
                reason: d.setAside ? WITHDRAWN_FROM_REVIEW : WITHDRAWN_BEFORE_PAYOUT,
              }
            : { confirmationId: d.confirmationId, outcome: 'withdrawal-refused', reason: withdrawalRefused(d) },
        );
      } else {
        const d = event.data as PayoutCancellationDecidedV1;
        if (d.outcome === 'refused') {
          refusedCancellations.push({ claimId: d.claimId, decidedAt: d.decidedAt, reason: cancellationRefused(d) });
        }
      }
    }
    await this.repo.settleWithdrawals(ctx.em, withdrawals);
    await this.repo.cancellationsRefused(ctx.em, refusedCancellations);
  }
}
