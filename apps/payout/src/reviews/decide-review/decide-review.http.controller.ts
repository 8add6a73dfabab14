import { Body, Controller, Param, Post } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  ApiZodBody,
  CurrentPrincipal,
  IdempotencyKey,
  IdempotentCreate,
  Principal,
  Roles,
  StoredResponse,
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
  @IdempotentCreate('a fresh key per decision; retries reuse it')
  @ApiResponse({ status: 200, description: '{claimId, decision, payable, currency}' })
  @ApiResponse({
    status: 409,
    description:
      'REVIEW.ALREADY_DECIDED, REVIEW.CLAIM_CANCELLED, REVIEW.CONTRACT_NOT_ACTIVE, REVIEW.VERIFICATION_WITHDRAWN',
  })
  @ApiResponse({
    status: 503,
    description: 'REVIEW.PAYMENTS_STOPPED: the ledger circuit breaker is open; nothing is decided (Retry-After)',
  })
  async decide(
    @IdempotencyKey() key: string,
    @Param('claimId', new ZodPipe(z.string().uuid(), 'REVIEW.CLAIM_ID_INVALID')) claimId: string,
    @Body(new ZodPipe(DecideReviewRequest, 'REVIEW.INVALID')) request: DecideReviewRequest,
    @CurrentPrincipal() reviewer: Principal,
  ): Promise<StoredResponse<ReviewDecisionDto>> {
    return this.service.decide(claimId, request, reviewer, key);
  }
}
