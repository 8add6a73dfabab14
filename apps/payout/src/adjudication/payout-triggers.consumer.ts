import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  ClaimCancelledV1,
  ClaimSubmittedV1,
  CloudEvent,
  LedgerAnchoredV1,
  Topics,
  TreatmentVerifiedV1,
} from '@claimchain/contracts';
import { EventContext } from '@claimchain/messaging';
import { PayoutRepository } from '../persistence/payout.repository';
import { AdjudicateClaimService } from './adjudicate-claim.service';

/**
 * Collects the claim, its verification and the verification's anchor (three topics, any order); whichever
 * arrives last triggers adjudication. A cancellation that arrives first stops it.
 */
@Controller()
export class PayoutTriggersConsumer {
  constructor(
    private readonly repo: PayoutRepository,
    private readonly adjudication: AdjudicateClaimService,
  ) {}

  @EventPattern(Topics.ClaimsSubmitted)
  async claim(@Payload() event: CloudEvent<ClaimSubmittedV1>, @Ctx() ctx: EventContext): Promise<void> {
    await this.repo.lockClaim(ctx.em, event.subject);
    await this.repo.rememberClaim(ctx.em, event.data, event);
    await this.adjudication.tryAdjudicate(ctx.em, event.subject);
  }

  @EventPattern(Topics.TreatmentsVerified)
  async verified(@Payload() event: CloudEvent<TreatmentVerifiedV1>, @Ctx() ctx: EventContext): Promise<void> {
    await this.repo.lockClaim(ctx.em, event.subject);
    await this.repo.rememberVerification(ctx.em, event);
    await this.adjudication.tryAdjudicate(ctx.em, event.subject);
  }

  /** Under the claim's lock: either this lands before adjudication (nothing is paid) or after (the payout stands). */
  @EventPattern(Topics.ClaimsCancelled)
  async cancelled(@Payload() event: CloudEvent<ClaimCancelledV1>, @Ctx() ctx: EventContext): Promise<void> {
    await this.repo.lockClaim(ctx.em, event.subject);
    await this.repo.rememberCancellation(ctx.em, event);
  }

  @EventPattern(Topics.LedgerAnchored)
  async anchored(@Payload() event: CloudEvent<LedgerAnchoredV1>, @Ctx() ctx: EventContext): Promise<void> {
    if (event.data.eventType !== 'treatment.verified') return;
    await this.repo.lockClaim(ctx.em, event.data.eventSubject);
    await this.repo.rememberAnchor(ctx.em, event.data);
    await this.adjudication.tryAdjudicate(ctx.em, event.data.eventSubject);
  }
}
