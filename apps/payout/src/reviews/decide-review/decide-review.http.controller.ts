import { Body, Controller, Headers, Param, Post, Res } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { ApiHeader, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  answerStored,
  ApiZodBody,
  CurrentPrincipal,
  IDEMPOTENCY_HEADER,
  Principal,
  requireIdempotencyKey,
  Roles,
  ZodPipe,
} from '@claimchain/http';
import { DecideReviewRequest } from './decide-review.request';
import { DecideReviewService, ReviewDecisionDto } from './decide-review.service';

@ApiTags('reviews')
@Controller('v1/reviews')
export class DecideReviewHttpController {
  constructor(private readonly service: DecideReviewService) {}

  /** Decides a pended claim; the outcome is adjudicated, paid and announced like an automatic one. */
  @Post(':claimId/decision')
  @Roles('insurer')
  @ApiZodBody(DecideReviewRequest, 'approve or deny the pended lines, with a reason')
  @ApiHeader({ name: 'Idempotency-Key', required: true, description: 'a fresh key per decision; retries reuse it' })
  @ApiResponse({ status: 200, description: '{claimId, decision, payable, currency}' })
  @ApiResponse({ status: 409, description: 'REVIEW.ALREADY_DECIDED, REVIEW.CLAIM_CANCELLED' })
  @ApiResponse({
    status: 503,
    description: 'REVIEW.PAYMENTS_STOPPED: the ledger circuit breaker is open; nothing is decided (Retry-After)',
  })
  async decide(
    @Headers(IDEMPOTENCY_HEADER) idempotencyKey: string | undefined,
    @Param('claimId', new ZodPipe(z.string().uuid(), 'REVIEW.CLAIM_ID_INVALID')) claimId: string,
    @Body(new ZodPipe(DecideReviewRequest, 'REVIEW.INVALID')) request: DecideReviewRequest,
    @CurrentPrincipal() reviewer: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ReviewDecisionDto> {
    const key = requireIdempotencyKey(idempotencyKey);
    const result = await this.service.decide(claimId, request, reviewer, key);
    return answerStored(reply, result);
  }
}
