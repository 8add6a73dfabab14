import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Topics } from '@claimchain/contracts';
import { DomainError, Principal } from '@claimchain/http';
import { OutboxWriter } from '@claimchain/messaging';
import { ClaimsRepository } from '../claims.repository';
import { CANCELLABLE } from '../claim-status';
import { CLAIM_INTAKE_SOURCE } from '../../claim-intake.source';

/**
 * An insurer withdraws its claim before payout. The cancellation is recorded and announced
 * (`claims.cancelled.v1`); payout then refuses to pay it. If payout had already paid (the two raced), the payout
 * stands and the claim shows `paid` with the cancellation in its timeline.
 */
@Injectable()
export class CancelClaimService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly claims: ClaimsRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  async cancel(claimId: string, reason: string, insurer: Principal): Promise<{ id: string; status: 'cancelled' }> {
    return this.dataSource.transaction(async (em) => {
      const claim = await this.claims.find(claimId, em, true);
      if (!claim || claim.insurer_id !== insurer.tenant) {
        throw new DomainError('CLAIM.NOT_FOUND', 'not-found', `No claim ${claimId}`);
      }
      if (claim.status === 'cancelled') return { id: claimId, status: 'cancelled' as const };
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
      await this.claims.advance(em, claimId, 'cancelled', { cancelReason: reason });
      return { id: claimId, status: 'cancelled' as const };
    });
  }
}
