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
import { PolicyResponseDto } from '../policy.mapper';
import { EnrolPolicyRequest } from './enrol-policy.request';
import { EnrolPolicyService } from './enrol-policy.service';

@ApiTags('policies')
@Controller('v1/policies')
export class EnrolPolicyHttpController {
  constructor(private readonly service: EnrolPolicyService) {}

  /** 201 with the policy; claims naming its coverage are then adjudicated by its contract and accumulators. */
  @Post()
  @Roles('insurer')
  @ApiZodBody(EnrolPolicyRequest, 'a member enrolled on a contract for a period')
  @ApiHeader({ name: 'Idempotency-Key', required: true, description: 'a fresh key per enrolment; retries reuse it' })
  @ApiResponse({ status: 201, description: 'the policy; Location: /v1/policies/{id}' })
  @ApiResponse({ status: 409, description: 'POLICY.OVERLAP: the coverage already has a policy in this period' })
  @ApiResponse({ status: 422, description: 'POLICY.CONTRACT_NOT_FOUND' })
  async enrol(
    @Headers(IDEMPOTENCY_HEADER) idempotencyKey: string | undefined,
    @Body(new ZodPipe(EnrolPolicyRequest, 'POLICY.INVALID')) request: EnrolPolicyRequest,
    @CurrentPrincipal() insurer: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PolicyResponseDto> {
    const key = requireIdempotencyKey(idempotencyKey);
    const result = await this.service.enrol(request, insurer, key);
    return answerStored(reply, result, `/v1/policies/${result.body.id}`);
  }
}
