import { Body, Controller, Post } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
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
import { ConfirmTreatmentRequest } from './confirm-treatment.request';
import { ConfirmationResult, ConfirmTreatmentService } from './confirm-treatment.service';

@ApiTags('confirmations')
@Controller('v1/confirmations')
export class ConfirmTreatmentHttpController {
  constructor(private readonly service: ConfirmTreatmentService) {}

  /**
   * 201 with the outcome (`verified`: the claim's verified lines move on to the ledger and payout, the others are
   * listed with reasons; `rejected` with reasons, correctable by confirming again), or 202
   * `pending` when no claim naming the caller has reached this service: it is decided as soon as one does, and
   * expires otherwise. A claim naming another provider is answered exactly as a claim not yet here. A retry with the
   * same Idempotency-Key and body answers the original response again (`Idempotent-Replayed: true`).
   */
  @Post()
  @Roles('provider')
  @ApiZodBody(ConfirmTreatmentRequest)
  @IdempotentCreate(
    'a fresh key per confirmation; retries reuse it',
    (c: ConfirmationResult) => `/v1/confirmations/${c.confirmationId}`,
  )
  @ApiResponse({
    status: 201,
    description:
      'decided: {confirmationId, claimId, outcome, reasons, supersedes?}. Each claimed line is matched on its own ' +
      "within the insurer's date tolerance: `verified` when at least one line matches, its reasons naming the " +
      'lines not verified (NOT_PERFORMED, DATE_MISMATCH, QUANTITY_SHORT: payout denies them) and performances that ' +
      'verified no line (NOT_CLAIMED); `rejected` when none matches. A confirmation of a claim whose confirmation ' +
      'was rejected corrects it: it decides the claim and `supersedes` names the rejected one',
  })
  @ApiResponse({ status: 202, description: 'pending: waiting for the claim; GET its Location for the outcome' })
  @ApiResponse({
    status: 409,
    description:
      'CONFIRMATION.ALREADY_RECORDED: the claim already has a verified confirmation (a rejected one is corrected), ' +
      'or this provider already has one waiting for it; CONFIRMATION.CLAIM_CANCELLED: the insurer cancelled the claim',
  })
  @ApiResponse({ status: 422, description: 'IDEMPOTENCY.KEY_REUSED: the key was used with another body' })
  @ApiResponse({
    status: 429,
    description: 'CONFIRMATION.TOO_MANY_PENDING: too many confirmations wait for their claims; see Retry-After',
  })
  confirm(
    @IdempotencyKey() key: string,
    @Body(new ZodPipe(ConfirmTreatmentRequest, 'CONFIRMATION.INVALID')) body: ConfirmTreatmentRequest,
    @CurrentPrincipal() provider: Principal,
  ): Promise<StoredResponse<ConfirmationResult>> {
    return this.service.confirm(body, provider, key);
  }
}
