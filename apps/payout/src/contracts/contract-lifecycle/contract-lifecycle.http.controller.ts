import { Body, Controller, Param, Post } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
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
import { PublishContractRequest } from '../../engine/contract.definition';
import { ContractResponseDto } from '../contract.mapper';
import { PublishContractService } from '../publish-contract/publish-contract.service';
import { PublishContractRoute } from '../publish-contract/publish-contract.http.controller';
import { ContractLifecycleService } from './contract-lifecycle.service';
import { ActivateContractRequest, RetireContractRequest } from './contract-lifecycle.request';

const ContractId = new ZodPipe(z.string().regex(/^[0-9a-f]{64}$/), 'CONTRACT.ID_INVALID');

/**
 * v2 contracts have a lifecycle (ADR 21): published as a draft (simulated and backtested like any contract, used for
 * no claim), activated from an effective date, retired from a date. Read them with `GET /v1/contracts/:id`.
 */
@ApiTags('contracts')
@Controller('v2/contracts')
export class ContractLifecycleHttpController {
  constructor(
    private readonly publisher: PublishContractService,
    private readonly lifecycle: ContractLifecycleService,
  ) {}

  /** 201 with the new draft, or 200 with the existing contract (in its state) when this content was published. */
  @PublishContractRoute('draft')
  async publishDraft(
    @IdempotencyKey() key: string,
    @Body(new ZodPipe(PublishContractRequest, 'CONTRACT.INVALID')) request: PublishContractRequest,
    @CurrentPrincipal() insurer: Principal,
  ): Promise<StoredResponse<ContractResponseDto>> {
    return this.publisher.publish(request, insurer, key, 'draft');
  }

  @Post(':id/activation')
  @Roles('insurer')
  @ApiZodBody(ActivateContractRequest, 'the first service date the contract decides claims for (today or later)')
  @IdempotentCreate('a fresh key per activation; retries reuse it')
  @ApiResponse({ status: 200, description: 'the contract, active from effectiveFrom (contracts.states.v1)' })
  @ApiResponse({ status: 400, description: 'CONTRACT.INVALID: a date before today (UTC)' })
  @ApiResponse({ status: 404, description: 'CONTRACT.NOT_FOUND: not one of the caller’s contracts' })
  @ApiResponse({ status: 409, description: 'CONTRACT.ALREADY_ACTIVE (from another date), CONTRACT.RETIRED' })
  async activate(
    @IdempotencyKey() key: string,
    @Param('id', ContractId) id: string,
    @Body(new ZodPipe(ActivateContractRequest, 'CONTRACT.INVALID')) request: ActivateContractRequest,
    @CurrentPrincipal() insurer: Principal,
  ): Promise<StoredResponse<ContractResponseDto>> {
    return this.lifecycle.activate(id, request, insurer, key);
  }

  @Post(':id/retirement')
  @Roles('insurer')
  @ApiZodBody(RetireContractRequest, 'the first service date the contract no longer decides (today or later)')
  @IdempotentCreate('a fresh key per retirement; retries reuse it')
  @ApiResponse({ status: 200, description: 'the contract, retired from retiredFrom (contracts.states.v1)' })
  @ApiResponse({ status: 400, description: 'CONTRACT.INVALID: a date before today (UTC) or not after effectiveFrom' })
  @ApiResponse({ status: 404, description: 'CONTRACT.NOT_FOUND: not one of the caller’s contracts' })
  @ApiResponse({ status: 409, description: 'CONTRACT.RETIRED: already retired from another date' })
  async retire(
    @IdempotencyKey() key: string,
    @Param('id', ContractId) id: string,
    @Body(new ZodPipe(RetireContractRequest, 'CONTRACT.INVALID')) request: RetireContractRequest,
    @CurrentPrincipal() insurer: Principal,
  ): Promise<StoredResponse<ContractResponseDto>> {
    return this.lifecycle.retire(id, request, insurer, key);
  }
}
