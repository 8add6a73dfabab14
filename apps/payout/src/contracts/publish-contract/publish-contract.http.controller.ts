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
import { PublishContractRequest, PublishContractRequestDoc } from '../../engine/contract.definition';
import { ContractResponseDto } from '../contract.mapper';
import { PublishContractService } from './publish-contract.service';

@ApiTags('contracts')
@Controller('v1/contracts')
export class PublishContractHttpController {
  constructor(private readonly service: PublishContractService) {}

  /**
   * 201 with the new contract, or 200 with the existing one when the same content was published before (the id is
   * its content hash). Contracts are immutable: a change is a new contract with a new id.
   */
  @Post()
  @Roles('insurer')
  @ApiZodBody(PublishContractRequestDoc, 'json-rules-engine rules plus the parameters adjudication applies')
  @ApiHeader({ name: 'Idempotency-Key', required: true, description: 'a fresh key per publish; retries reuse it' })
  @ApiResponse({ status: 201, description: 'published; Location: /v1/contracts/{id}' })
  @ApiResponse({ status: 200, description: 'this content was already published: the same contract' })
  async publish(
    @Headers(IDEMPOTENCY_HEADER) idempotencyKey: string | undefined,
    @Body(new ZodPipe(PublishContractRequest, 'CONTRACT.INVALID')) request: PublishContractRequest,
    @CurrentPrincipal() insurer: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ContractResponseDto> {
    const key = requireIdempotencyKey(idempotencyKey);
    const result = await this.service.publish(request, insurer, key);
    return answerStored(reply, result, `/v1/contracts/${result.body.id}`);
  }
}
