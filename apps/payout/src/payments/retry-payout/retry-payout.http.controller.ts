import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiZodBody, CurrentPrincipal, Principal, Roles, ZodPipe } from '@claimchain/http';
import { PayoutOpsDto } from '../payout-ops.mapper';
import { RetryPayoutService } from './retry-payout.service';

export const RetryPayoutRequest = z.object({ reason: z.string().trim().min(1).max(500) }).strict();
type RetryPayoutRequest = z.infer<typeof RetryPayoutRequest>;

/**
 * Ops: a failed payout back into the retry schedule. No Idempotency-Key: a repeated call finds the payout no longer
 * failed and answers 409, so it never queues twice.
 */
@ApiTags('ops')
@Controller('v1/ops/payouts')
export class RetryPayoutHttpController {
  constructor(private readonly service: RetryPayoutService) {}

  @Post(':payoutId/retry')
  @HttpCode(200)
  @Roles('ops')
  @ApiZodBody(RetryPayoutRequest, 'why it is worth trying again (the ticket, what was fixed); recorded with who asked')
  @ApiResponse({ status: 200, description: 'the payout, released again with attempts from zero (payouts.retried.v1)' })
  @ApiResponse({ status: 400, description: 'PAYOUT.RETRY_INVALID naming /reason, or PAYOUT.ID_INVALID' })
  @ApiResponse({ status: 404, description: 'PAYOUT.NOT_FOUND' })
  @ApiResponse({ status: 409, description: 'PAYOUT.NOT_FAILED: only a failed payout can be retried' })
  async retry(
    @Param('payoutId', new ZodPipe(z.string().uuid(), 'PAYOUT.ID_INVALID')) payoutId: string,
    @Body(new ZodPipe(RetryPayoutRequest, 'PAYOUT.RETRY_INVALID')) request: RetryPayoutRequest,
    @CurrentPrincipal() ops: Principal,
  ): Promise<PayoutOpsDto> {
    return this.service.retry(payoutId, ops.subject, request.reason);
  }
}
