import { Body, Controller, Headers, Post, Res } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { ApiHeader, ApiResponse, ApiTags } from '@nestjs/swagger';
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
import { ConfirmTreatmentRequest } from './confirm-treatment.request';
import { ConfirmationResult, ConfirmTreatmentService } from './confirm-treatment.service';

@ApiTags('confirmations')
@Controller('v1/confirmations')
export class ConfirmTreatmentHttpController {
  constructor(private readonly service: ConfirmTreatmentService) {}

  /**
   * 201 with the outcome (`verified`: the claim moves on to the ledger and payout; `rejected` with reasons), or 202
   * `pending` when no claim naming the caller has reached this service: it is decided as soon as one does, and
   * expires otherwise. A claim naming another provider is answered exactly as a claim not yet here. A retry with the
   * same Idempotency-Key and body answers the original response again (`Idempotent-Replayed: true`).
   */
  @Post()
  @Roles('provider')
  @ApiZodBody(ConfirmTreatmentRequest)
  @ApiHeader({ name: 'Idempotency-Key', required: true, description: 'a fresh key per confirmation; retries reuse it' })
  @ApiResponse({ status: 201, description: 'decided: {confirmationId, claimId, outcome, reasons}' })
  @ApiResponse({ status: 202, description: 'pending: waiting for the claim; GET its Location for the outcome' })
  @ApiResponse({
    status: 409,
    description:
      'CONFIRMATION.ALREADY_RECORDED: the claim already has a confirmation, or this provider already has one ' +
      'waiting for it; CONFIRMATION.CLAIM_CANCELLED: the insurer cancelled the claim',
  })
  @ApiResponse({ status: 422, description: 'IDEMPOTENCY.KEY_REUSED: the key was used with another body' })
  @ApiResponse({
    status: 429,
    description: 'CONFIRMATION.TOO_MANY_PENDING: too many confirmations wait for their claims; see Retry-After',
  })
  async confirm(
    @Headers(IDEMPOTENCY_HEADER) idempotencyKey: string | undefined,
    @Body(new ZodPipe(ConfirmTreatmentRequest, 'CONFIRMATION.INVALID')) body: ConfirmTreatmentRequest,
    @CurrentPrincipal() provider: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ConfirmationResult> {
    const key = requireIdempotencyKey(idempotencyKey);
    const result = await this.service.confirm(body, provider, key);
    return answerStored(reply, result, `/v1/confirmations/${result.body.confirmationId}`);
  }
}
