import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Topics } from '@claimchain/wire';
import { DomainError, Principal } from '@claimchain/http';
import { OutboxWriter } from '@claimchain/messaging';
import { ClaimsRepository } from '../claims.repository';
import { CANCELLABLE } from '../claim-status';
import { CLAIM_INTAKE_SOURCE } from '../../claim-intake.source';

export type CancellationStatus = 'cancel-requested' | 'cancelled';

/**
 * An insurer asks to withdraw its claim before payout. The request is recorded and announced (`claims.cancelled.v1`)
 * and the claim is `cancel-requested`: payout may have decided it already, which this service cannot know (its read
 * model lags). Payout answers (`payouts.cancellation-decided.v1`, ADR 16): `stopped` makes the claim `cancelled`
 * (and a new claim for the same service no longer a duplicate); `refused` leaves the decision and any payout
 * standing, the claim showing them with the refused cancellation in its timeline. Repeating the request while it is
 * open, or once cancelled, answers the same and announces nothing.
 */
@Injectable()
export class CancelClaimService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly claims: ClaimsRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  async cancel(
    claimId: string,
    reason: string,
    insurer: Principal,
  ): Promise<{ id: string; status: CancellationStatus }> {
    return this.dataSource.transaction(async (em) => {
      const claim = await this.claims.find(claimId, em, true);
      if (!claim || claim.insurer_id !== insurer.tenant) {
        throw new DomainError('CLAIM.NOT_FOUND', 'not-found', `No claim ${claimId}`);
      }
      if (claim.status === 'cancelled' || claim.status === 'cancel-requested') {
        return { id: claimId, status: claim.status };
      }
      if (!CANCELLABLE.includes(claim.status)) {
        throw new DomainError(
          'CLAIM.NOT_CANCELLABLE',
          'conflict',
          `A ${claim.status} claim can no longer be cancelled`,
        );
      }
      const now = new Date();
      const event = await this.outbox.add(em, Topics.ClaimsCancelled, {
        source: CLAIM_INTAKE_SOURCE,
        subject: claimId,
        tenantid: claim.insurer_id,
        time: now,
        data: { claimId, insurerId: claim.insurer_id, reason, cancelledAt: now.toISOString() },
      });
      await this.claims.recordEvent(em, event);
      await this.claims.advance(em, claimId, 'cancel-requested', { cancelReason: reason });
      return { id: claimId, status: 'cancel-requested' as const };
    });
  }
}
