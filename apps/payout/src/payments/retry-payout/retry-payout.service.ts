import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { Topics } from '@claimchain/wire';
import { DomainError } from '@claimchain/http';
import { OutboxWriter } from '@claimchain/messaging';
import { PAYOUT_SOURCE } from '../../payout.source';
import { PaymentDispatchRepository } from '../payment-dispatch.repository';
import { PayoutOpsDto, toPayoutOpsDto } from '../payout-ops.mapper';

/**
 * Ops retry a failed payout once its cause is fixed (the insurer's webhook is back, the bank account corrected):
 * the payout goes back into the dispatcher's schedule as if just released, and the normal path follows (settled →
 * payouts.settled.v1, or failed again after PAYMENT_MAX_ATTEMPTS). In the same transaction the retry is stored in
 * `payout_retries` (who, why, the failure it replaces) and announced on payouts.retried.v1, so the ledger records
 * the intervention and the claim's timeline shows it. Nothing can pay twice: it is the same payout, with the same id
 * as the rails' idempotency key.
 */
@Injectable()
export class RetryPayoutService {
  private readonly logger = new Logger(RetryPayoutService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: PaymentDispatchRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  async retry(payoutId: string, retriedBy: string, reason: string): Promise<PayoutOpsDto> {
    return this.dataSource.transaction(async (em) => {
      const payout = await this.repo.findForUpdate(em, payoutId);
      if (!payout) throw new DomainError('PAYOUT.NOT_FOUND', 'not-found', `No payout ${payoutId}`);
      if (payout.status !== 'failed') {
        throw new DomainError(
          'PAYOUT.NOT_FAILED',
          'conflict',
          `Payout ${payoutId} is ${payout.status}: only a failed payout can be retried`,
        );
      }
      const retried = await this.repo.requeueFailed(em, { retryId: uuidv7(), payoutId, retriedBy, reason });
      if (!retried) throw new Error(`payout ${payoutId} was failed under its lock but could not be requeued`);
      await this.outbox.add(em, Topics.PayoutsRetried, {
        source: PAYOUT_SOURCE,
        subject: payout.claimId,
        tenantid: payout.insurerId,
        time: retried.retriedAt,
        data: {
          claimId: payout.claimId,
          payoutId,
          rail: payout.rail,
          amount: payout.amount,
          currency: payout.currency,
          previousAttempts: payout.attempts,
          previousError: payout.lastError,
          retriedBy,
          reason,
          retriedAt: new Date(retried.retriedAt).toISOString(),
        },
      });
      this.logger.warn(`payout ${payoutId} of claim ${payout.claimId} retried by ${retriedBy}: ${reason}`);
      const after = await this.repo.findForUpdate(em, payoutId);
      return toPayoutOpsDto(after!);
    });
  }
}
