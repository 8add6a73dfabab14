import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ClaimCancelledV1, CloudEvent, Topics, claimIdOf } from '@claimchain/wire';
import { EventContext } from '@claimchain/messaging';
import { ConfirmationsRepository } from '../confirmations.repository';
import { CLAIM_CANCELLED } from '../confirmation-reasons';

/**
 * An insurer cancelled claims: their own provider's confirmation, pending or verified, is cancelled (its provider
 * sees why), and a confirmation posted later is refused. A cancellation consumed before its claim (another topic,
 * so no order between them) is remembered, and the claim's arrival settles its confirmations then. Payout stops
 * the payment on the same event; one it had already made stands. Batched (ADR 8), under the claims' locks, so it
 * cannot interleave with a confirmation of the same claim.
 */
@Controller()
export class ClaimsCancelledConsumer {
  constructor(private readonly repo: ConfirmationsRepository) {}

  @EventPattern(Topics.ClaimsCancelled, { batch: true })
  async handle(@Payload() events: CloudEvent<ClaimCancelledV1>[], @Ctx() ctx: EventContext): Promise<void> {
    const cancellations = events.map((e) => ({ claimId: claimIdOf(e), cancelledAt: e.data.cancelledAt }));
    await this.repo.lockClaimIds(
      ctx.em,
      cancellations.map((c) => c.claimId),
    );
    await this.repo.cancelClaims(ctx.em, cancellations, CLAIM_CANCELLED);
  }
}
