import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { CurrentPrincipal, Principal, Roles, ZodPipe } from '@claimchain/http';
import { FhirClaimRequest } from './fhir-claim.request';
import { SubmitClaimService } from './submit-claim.service';

@Controller('v1/claims')
export class SubmitClaimHttpController {
  constructor(private readonly service: SubmitClaimService) {}

  /** 202: the claim is durably stored; verification and payment follow asynchronously. */
  @Post()
  @HttpCode(202)
  @Roles('insurer')
  async submit(
    @Body(new ZodPipe(FhirClaimRequest, 'CLAIM.INVALID')) claim: FhirClaimRequest,
    @CurrentPrincipal() insurer: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ id: string; status: 'submitted' }> {
    const result = await this.service.submit(claim, insurer);
    void reply.header('location', `/v1/claims/${result.id}`);
    return result;
  }
}
