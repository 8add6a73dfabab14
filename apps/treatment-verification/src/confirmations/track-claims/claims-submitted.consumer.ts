import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ClaimSubmittedV1, CloudEvent, Topics, claimIdOf } from '@claimchain/wire';
import { EventContext } from '@claimchain/messaging';
import { ConfirmationsRepository } from '../confirmations.repository';
import { ConfirmTreatmentService } from '../confirm-treatment/confirm-treatment.service';

/**
 * Remembers each submitted claim's lines so a provider's confirmation can be matched against them, and decides a
 * confirmation that arrived before the claim did. Batched (ADR 8): the claims that arrive together are locked in
 * one order, stored with one statement, and the confirmations waiting for them decided in a few more, in one transaction.
 */
@Controller()
export class ClaimsSubmittedConsumer {
  constructor(
    private readonly repo: ConfirmationsRepository,
    private readonly confirmations: ConfirmTreatmentService,
  ) {}

  @EventPattern(Topics.ClaimsSubmitted, { batch: true })
  async handle(@Payload() events: CloudEvent<ClaimSubmittedV1>[], @Ctx() ctx: EventContext): Promise<void> {
    const claims = events.map((e) => ({ ...e.data, correlationId: e.correlationid }));
    await this.repo.lockClaimIds(ctx.em, events.map(claimIdOf));
    await this.repo.rememberClaims(ctx.em, claims);
    await this.confirmations.decidePendingFor(
      ctx.em,
      events.map((e) => ({
        claim_id: claimIdOf(e),
        insurer_id: e.data.insurerId,
        provider_id: e.data.providerId,
        items: e.data.items,
        correlation_id: e.correlationid,
        submitted_event_id: e.id, // what decides a confirmation now is this claim's arrival (ADR 20)
      })),
    );
  }
}
