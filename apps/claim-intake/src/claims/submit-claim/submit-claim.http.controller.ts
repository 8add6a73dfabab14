import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { ZodPipe } from '@claimchain/http';
import { FhirClaimRequest } from './fhir-claim.request';
import { SubmitClaimService } from './submit-claim.service';

@Controller('v1/claims')
export class SubmitClaimHttpController {
  constructor(private readonly service: SubmitClaimService) {}

  /** 202: the claim is durably stored; verification and payment follow asynchronously. */
  @Post()
  @HttpCode(202)
  async submit(
    @Body(new ZodPipe(FhirClaimRequest, 'CLAIM.INVALID')) claim: FhirClaimRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ id: string; status: 'submitted' }> {
    const result = await this.service.submit(claim);
    void reply.header('location', `/v1/claims/${result.id}`);
    return result;
  }
}
