import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ClaimSubmittedV1, CloudEvent, Topics } from '@claimchain/contracts';
import { EventContext } from '@claimchain/messaging';
import { ConfirmationsRepository } from '../../persistence/confirmations.repository';

/** Remembers each submitted claim's lines so a provider's confirmation can be matched against them. */
@Controller()
export class ClaimsSubmittedConsumer {
  constructor(private readonly repo: ConfirmationsRepository) {}

  @EventPattern(Topics.ClaimsSubmitted)
  async handle(@Payload() event: CloudEvent<ClaimSubmittedV1>, @Ctx() ctx: EventContext): Promise<void> {
    await this.repo.rememberClaim(ctx.em, event.data);
  }
}
