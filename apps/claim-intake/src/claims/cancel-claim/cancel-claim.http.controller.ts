import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { z } from 'zod';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { ApiZodBody, CurrentPrincipal, Principal, Roles, ZodPipe } from '@claimchain/http';
import { CancelClaimService, CancellationStatus } from './cancel-claim.service';

const CancelClaimRequest = z.object({ reason: z.string().trim().min(1).max(500) });
type CancelClaimRequest = z.infer<typeof CancelClaimRequest>;

@ApiTags('claims')
@Controller('v1/claims')
export class CancelClaimHttpController {
  constructor(private readonly service: CancelClaimService) {}

  /**
   * Asks payout to stop a claim not yet decided for payment (ADR 16): 202 `cancel-requested` until payout answers;
   * the claim then shows `cancelled`, or the decision payout had already made. Repeating it is harmless: it
   * answers the cancellation's state (200 once `cancelled`).
   */
  @Post(':id/cancel')
  @HttpCode(202)
  @Roles('insurer')
  @ApiZodBody(CancelClaimRequest)
  @ApiResponse({ status: 202, description: '{id, status: "cancel-requested"}: payout has not answered yet' })
  @ApiResponse({ status: 200, description: '{id, status: "cancelled"}: payout stopped the payment' })
  @ApiResponse({ status: 409, description: 'CLAIM.NOT_CANCELLABLE: decided for payment, or refused already' })
  @ApiResponse({ status: 404, description: 'CLAIM.NOT_FOUND (also for another insurer’s claim)' })
  async cancel(
    @Param('id', new ZodPipe(z.string().uuid(), 'CLAIM.ID_INVALID')) id: string,
    @Body(new ZodPipe(CancelClaimRequest, 'CLAIM.CANCEL_INVALID')) body: CancelClaimRequest,
    @CurrentPrincipal() insurer: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ id: string; status: CancellationStatus }> {
    const answer = await this.service.cancel(id, body.reason, insurer);
    if (answer.status === 'cancelled') reply.status(200);
    return answer;
  }
}
