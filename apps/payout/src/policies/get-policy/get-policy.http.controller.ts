import { Controller, Get, Param } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { CurrentPrincipal, DomainError, Principal, Roles, ZodPipe } from '@claimchain/http';
import { ContractRepository } from '../../contracts/contract.repository';
import { PolicyRepository } from '../policy.repository';
import { PolicyResponseDto, toPolicyDto } from '../policy.mapper';

@ApiTags('policies')
@Controller('v1/policies')
export class GetPolicyHttpController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policies: PolicyRepository,
    private readonly contracts: ContractRepository,
  ) {}

  /** The policy with its plan-year accumulators (deductible met, benefit paid, what remains). */
  @Get(':id')
  @Roles('insurer')
  async get(
    @Param('id', new ZodPipe(z.string().uuid(), 'POLICY.ID_INVALID')) id: string,
    @CurrentPrincipal() insurer: Principal,
  ): Promise<PolicyResponseDto> {
    const em = this.dataSource.manager;
    const policy = await this.policies.findPolicy(em, id);
    if (!policy || policy.insurerId !== insurer.tenant) {
      throw new DomainError('POLICY.NOT_FOUND', 'not-found', `No policy ${id}`);
    }
    const contract = (await this.contracts.findContract(em, policy.contractId, insurer.tenant))!;
    return toPolicyDto(policy, contract.definition, await this.policies.accumulators(em, id));
  }
}
