import { Body, Controller, Headers, Post, Res } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { ApiHeader, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  answerStored,
  ApiZodBody,
  CurrentPrincipal,
  IDEMPOTENCY_HEADER,
  Principal,
  RawBody,
  requireIdempotencyKey,
  Roles,
  ZodPipe,
} from '@claimchain/http';
import { FhirClaimRequest } from '../fhir/fhir-claim.request';
import { FhirR4Claim } from '../fhir/fhir-r4-claim.schema';
import { SubmitClaimService, SubmittedClaimDto } from './submit-claim.service';

@ApiTags('claims')
@Controller('v1/claims')
export class SubmitClaimHttpController {
  constructor(private readonly service: SubmitClaimService) {}

  /**
   * 202: the claim is durably stored; verification and payment follow asynchronously. A retry with the same
   * Idempotency-Key and body answers the original response again (`Idempotent-Replayed: true`).
   */
  @Post()
  @Roles('insurer')
  @ApiZodBody(FhirR4Claim, 'an HL7 FHIR R4 Claim (application/fhir+json or application/json)')
  @ApiHeader({ name: 'Idempotency-Key', required: true, description: 'a fresh key per claim; retries reuse it' })
  @ApiResponse({ status: 202, description: '{id, status: "submitted"}; Location: /v1/claims/{id}' })
  @ApiResponse({ status: 409, description: 'CLAIM.DUPLICATE: these services were already claimed' })
  @ApiResponse({ status: 503, description: 'CLAIM.QUEUE_FULL: too many claims waiting to be stored; see Retry-After' })
  async submit(
    @Headers(IDEMPOTENCY_HEADER) idempotencyKey: string | undefined,
    @Body(new ZodPipe(FhirClaimRequest, 'CLAIM.INVALID')) claim: FhirClaimRequest,
    @CurrentPrincipal() insurer: Principal,
    @RawBody() submission: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SubmittedClaimDto> {
    const key = requireIdempotencyKey(idempotencyKey);
    const result = await this.service.submit(claim, insurer, key, submission);
    return answerStored(reply, result, `/v1/claims/${result.body.id}`);
  }
}
