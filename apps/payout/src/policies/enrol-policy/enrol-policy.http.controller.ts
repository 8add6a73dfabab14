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
  @IdempotentCreate(
    'a fresh key per enrolment; retries reuse it',
    (body: PolicyResponseDto) => `/v1/policies/${body.id}`,
  )
  @ApiResponse({ status: 201, description: 'the policy; Location: /v1/policies/{id}' })
  @ApiResponse({ status: 409, description: 'POLICY.OVERLAP: the coverage already has a policy in this period' })
  @ApiResponse({ status: 422, description: 'POLICY.CONTRACT_NOT_FOUND' })
  async enrol(
    @IdempotencyKey() key: string,
    @Body(new ZodPipe(EnrolPolicyRequest, 'POLICY.INVALID')) request: EnrolPolicyRequest,
    @CurrentPrincipal() insurer: Principal,
  ): Promise<StoredResponse<PolicyResponseDto>> {
    return this.service.enrol(request, insurer, key);
  }
}
