import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ClaimSubmittedV1, CloudEvent, Topics } from '@claimchain/contracts';
import { EventContext } from '@claimchain/messaging';
import { ConfirmationsRepository } from '../../persistence/confirmations.repository';
import { ConfirmTreatmentService } from '../confirm-treatment/confirm-treatment.service';

/**
 * Remembers each submitted claim's lines so a provider's confirmation can be matched against them, and decides a
 * confirmation that arrived before the claim did.
 */
@Controller()
export class ClaimsSubmittedConsumer {
  constructor(
    private readonly repo: ConfirmationsRepository,
    private readonly confirmations: ConfirmTreatmentService,
  ) {}

  @EventPattern(Topics.ClaimsSubmitted)
  async handle(@Payload() event: CloudEvent<ClaimSubmittedV1>, @Ctx() ctx: EventContext): Promise<void> {
    const claim = event.data;
    await this.repo.lockClaimId(ctx.em, claim.claimId);
    await this.repo.rememberClaim(ctx.em, claim);
    await this.confirmations.decidePendingFor(ctx.em, {
      claim_id: claim.claimId,
      insurer_id: claim.insurerId,
      provider_id: claim.providerId,
      items: claim.items,
    });
  }
}
