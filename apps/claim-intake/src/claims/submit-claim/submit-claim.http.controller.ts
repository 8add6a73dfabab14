import { Body, Controller, Post } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  ApiZodBody,
  CurrentPrincipal,
  IdempotencyKey,
  IdempotentCreate,
  Principal,
  RawBody,
  Roles,
  StoredResponse,
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
  @IdempotentCreate('a fresh key per claim; retries reuse it', (claim: SubmittedClaimDto) => `/v1/claims/${claim.id}`)
  @ApiResponse({ status: 202, description: '{id, status: "submitted"}; Location: /v1/claims/{id}' })
  @ApiResponse({ status: 409, description: 'CLAIM.DUPLICATE: these services were already claimed' })
  @ApiResponse({ status: 503, description: 'CLAIM.QUEUE_FULL: too many claims waiting to be stored; see Retry-After' })
  async submit(
    @IdempotencyKey() key: string,
    @Body(new ZodPipe(FhirClaimRequest, 'CLAIM.INVALID')) claim: FhirClaimRequest,
    @CurrentPrincipal() insurer: Principal,
    @RawBody() submission: string | undefined,
  ): Promise<StoredResponse<SubmittedClaimDto>> {
    return this.service.submit(claim, insurer, key, submission);
  }
}
