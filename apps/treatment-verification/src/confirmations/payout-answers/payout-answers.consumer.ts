import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  CloudEvent,
  EventCatalog,
  ClaimPendedV1,
  PayoutCancellationDecidedV1,
  PEND_REASON_ATTESTATION_MISSING,
  PayoutWithdrawalDecidedV1,
  Topics,
  claimIdOf,
} from '@claimchain/wire';
import { EventContext, HandlerExtras } from '@claimchain/messaging';
import { ConfirmationsRepository } from '../confirmations.repository';
import {
  cancellationRefused,
  WITHDRAWN_BEFORE_PAYOUT,
  WITHDRAWN_FROM_REVIEW,
  ATTESTATION_REQUIRED_BY_CONTRACT,
  withdrawalRefused,
} from '../confirmation-reasons';

const WITHDRAWAL_DECIDED = EventCatalog[Topics.PayoutsWithdrawalDecided].type;
const PENDED = EventCatalog[Topics.ClaimsPended].type;

/**
 * Of payout's pended claims, only those pended for want of the provider's attestation (ADR 26) are the provider's to
 * act on; the others never reach a transaction.
 */
export function isProviderActionable(event: CloudEvent): boolean {
  if (event.type !== PENDED) return true;
  const d = event.data as ClaimPendedV1;
  return d.confirmationId !== undefined && d.lines.some((l) => l.pendReasons.includes(PEND_REASON_ATTESTATION_MISSING));
}

const ANSWERS: HandlerExtras = { batch: true, accepts: isProviderActionable };

/**
 * Payout's answers to the requests that may stop a payment, so a confirmation shows what payout did (ADR 22):
 * - a provider's withdrawal of its verification: `withdrawn` (stopped: the claim is back on the provider's worklist
 *   and waits for a new confirmation; payout had not decided it, or set aside its pended decision, ADR 25) or
 *   `withdrawal-refused` (payout had decided the claim; the verification stands);
 * - an insurer's cancellation (ADR 16): a refused one (payout had decided the claim) makes the confirmation the
 *   cancellation had made `cancelled` verified again; a stopped one changes nothing (it is `cancelled` already);
 * - a claim pended for want of the provider's signed attestation (ADR 26): the verified confirmation it was pended
 *   on gets the reason `ATTESTATION_REQUIRED`, saying what the provider can do. Other pends are the insurer's.
 * Batched (ADR 8), under the claims' locks, so it cannot interleave with a confirmation or a withdrawal of the claim.
 */
@Controller()
export class PayoutAnswersConsumer {
  constructor(private readonly repo: ConfirmationsRepository) {}

  @EventPattern([Topics.PayoutsWithdrawalDecided, Topics.PayoutsCancellationDecided, Topics.ClaimsPended], ANSWERS)
  async handle(@Payload() events: CloudEvent[], @Ctx() ctx: EventContext): Promise<void> {
    await this.repo.lockClaimIds(ctx.em, [...new Set(events.map(claimIdOf))]);
    const withdrawals: Parameters<ConfirmationsRepository['settleWithdrawals']>[1][number][] = [];
    const refusedCancellations: Parameters<ConfirmationsRepository['cancellationsRefused']>[1][number][] = [];
    const notes: Parameters<ConfirmationsRepository['noteReasons']>[1][number][] = [];
    for (const event of events) {
      if (event.type === PENDED) {
        const { confirmationId } = event.data as ClaimPendedV1;
        if (confirmationId) notes.push({ confirmationId, reason: ATTESTATION_REQUIRED_BY_CONTRACT });
      } else if (event.type === WITHDRAWAL_DECIDED) {
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
    await this.repo.noteReasons(ctx.em, notes);
  }
}
