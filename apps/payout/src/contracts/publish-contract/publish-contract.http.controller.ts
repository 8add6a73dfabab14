import { applyDecorators, Body, Controller, Post } from '@nestjs/common';
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
import { PublishContractRequest, PublishContractRequestDoc } from '../../engine/contract.definition';
import { ContractResponseDto } from '../contract.mapper';
import { PublishContractService } from './publish-contract.service';

/** The publish route of v1 (active at once) and v2 (a draft, ADR 21): the same body, limits and answers. */
export function PublishContractRoute(as: 'active' | 'draft'): MethodDecorator {
  return applyDecorators(
    Post(),
    Roles('insurer'),
    ApiZodBody(PublishContractRequestDoc, 'json-rules-engine rules plus the parameters adjudication applies'),
    IdempotentCreate(
      'a fresh key per publish; retries reuse it',
      (body: ContractResponseDto) => `/v1/contracts/${body.id}`,
    ),
    ApiResponse({
      status: 201,
      description: `published${as === 'draft' ? ' as a draft' : ''}; Location: /v1/contracts/{id}`,
    }),
    ApiResponse({ status: 200, description: 'this content was already published: the same contract, in its state' }),
  );
}

@ApiTags('contracts')
@Controller('v1/contracts')
export class PublishContractHttpController {
  constructor(private readonly service: PublishContractService) {}

  /**
   * 201 with the new contract, or 200 with the existing one when the same content was published before (the id is
   * its content hash). Contracts are immutable: a change is a new contract with a new id.
   */
  @PublishContractRoute('active')
  async publish(
    @IdempotencyKey() key: string,
    @Body(new ZodPipe(PublishContractRequest, 'CONTRACT.INVALID')) request: PublishContractRequest,
    @CurrentPrincipal() insurer: Principal,
  ): Promise<StoredResponse<ContractResponseDto>> {
    return this.service.publish(request, insurer, key);
  }
}
