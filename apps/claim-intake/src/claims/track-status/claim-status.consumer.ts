import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  ClaimAdjudicatedV1,
  ClaimPendedV1,
  CloudEvent,
  LedgerAnchoredV1,
  PayoutFailedV1,
  PayoutReleasedV1,
  PayoutRetriedV1,
  PayoutSettledV1,
  Topics,
  TreatmentRejectedV1,
  TreatmentVerifiedV1,
} from '@claimchain/contracts';
import { EventContext } from '@claimchain/messaging';
import { validate as isUuid } from 'uuid';
import { ClaimsRepository } from '../../persistence/claims.repository';

/**
 * Keeps the status and timeline read model current from the downstream events. Each handler runs in the inbox
 * transaction, so a redelivered event changes nothing twice.
 */
@Controller()
export class ClaimStatusConsumer {
  constructor(private readonly claims: ClaimsRepository) {}

  @EventPattern(Topics.TreatmentsVerified)
  async verified(@Payload() event: CloudEvent<TreatmentVerifiedV1>, @Ctx() ctx: EventContext): Promise<void> {
    await this.track(ctx, event, () => this.claims.advance(ctx.em, event.subject, 'verified'));
  }

  @EventPattern(Topics.TreatmentsRejected)
  async rejected(@Payload() event: CloudEvent<TreatmentRejectedV1>, @Ctx() ctx: EventContext): Promise<void> {
    await this.track(ctx, event, () => this.claims.advance(ctx.em, event.subject, 'verification-rejected'));
  }

  @EventPattern(Topics.ClaimsAdjudicated)
  async adjudicated(@Payload() event: CloudEvent<ClaimAdjudicatedV1>, @Ctx() ctx: EventContext): Promise<void> {
    const status = event.data.decision === 'denied' ? 'denied' : 'adjudicated';
    await this.track(ctx, event, () =>
      this.claims.advance(ctx.em, event.subject, status, {
        payable: event.data.payable,
        decision: event.data.decision,
      }),
    );
  }

  @EventPattern(Topics.ClaimsPended)
  async pended(@Payload() event: CloudEvent<ClaimPendedV1>, @Ctx() ctx: EventContext): Promise<void> {
    await this.track(ctx, event, () => this.claims.advance(ctx.em, event.subject, 'pended', { decision: 'pended' }));
  }

  /** Settlement by the payment rail: `paid` (again, if an earlier attempt had failed and ops retried it). */
  @EventPattern(Topics.PayoutsSettled)
  async settled(@Payload() event: CloudEvent<PayoutSettledV1>, @Ctx() ctx: EventContext): Promise<void> {
    const d = event.data;
    await this.track(ctx, event, () =>
      this.claims.setPaymentState(ctx.em, event.subject, 'paid', new Date(d.settledAt), d.amount),
    );
  }

  /** The rail refused the payout on every allowed attempt: nothing was paid, and the insurer must be able to see it. */
  @EventPattern(Topics.PayoutsFailed)
  async paymentFailed(@Payload() event: CloudEvent<PayoutFailedV1>, @Ctx() ctx: EventContext): Promise<void> {
    await this.track(ctx, event, () =>
      this.claims.setPaymentState(ctx.em, event.subject, 'payment-failed', new Date(event.data.failedAt)),
    );
  }

  /** Ops put the failed payout back on its rail: it is released for payment again. */
  @EventPattern(Topics.PayoutsRetried)
  async paymentRetried(@Payload() event: CloudEvent<PayoutRetriedV1>, @Ctx() ctx: EventContext): Promise<void> {
    await this.track(ctx, event, () =>
      this.claims.setPaymentState(ctx.em, event.subject, 'paid', new Date(event.data.retriedAt), event.data.amount),
    );
  }

  @EventPattern(Topics.PayoutsReleased)
  async paid(@Payload() event: CloudEvent<PayoutReleasedV1>, @Ctx() ctx: EventContext): Promise<void> {
    await this.track(ctx, event, () => this.claims.advance(ctx.em, event.subject, 'paid', { paid: event.data.amount }));
  }

  @EventPattern(Topics.LedgerAnchored)
  async anchored(@Payload() event: CloudEvent<LedgerAnchoredV1>, @Ctx() ctx: EventContext): Promise<void> {
    const a = event.data;
    // Anchors for other aggregates (contracts) share the topic; only this service's claims have a timeline here.
    if (!isUuid(a.eventSubject) || !(await this.claims.exists(ctx.em, a.eventSubject))) return;
    await this.claims.recordAnchor(ctx.em, {
      eventId: a.eventId,
      claimId: a.eventSubject,
      eventType: a.eventType,
      leafIndex: a.leafIndex,
      leafHash: a.leafHash,
      treeSize: a.treeSize,
      inclusionProof: a.inclusionProof,
      checkpoint: a.checkpoint,
    });
  }

  private async track(ctx: EventContext, event: CloudEvent, apply: () => Promise<void>): Promise<void> {
    if (!(await this.claims.exists(ctx.em, event.subject))) return;
    await this.claims.recordEvent(ctx.em, event);
    await apply();
  }
}
