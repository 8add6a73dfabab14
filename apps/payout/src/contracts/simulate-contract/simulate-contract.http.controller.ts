import { Body, Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { ApiZodBody, CurrentPrincipal, DomainError, Principal, Roles, ZodPipe } from '@claimchain/http';
import { ContractRepository } from '../contract.repository';
import { Adjudication, PolicyContext } from '../../engine/adjudicate';
import { AdjudicationPool, decisionOf } from '../../adjudication-pool/adjudication.pool';
import { SimulateContractRequest } from './simulate-contract.request';
import { CONTRACT_SETTINGS, ContractSettings } from '../contract-settings.module';

const SIMULATED_POLICY_ID = '00000000-0000-0000-0000-000000000000';

@ApiTags('contracts')
@Controller('v1/contracts')
export class SimulateContractHttpController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: ContractRepository,
    @Inject(CONTRACT_SETTINGS) private readonly settings: ContractSettings,
    private readonly pool: AdjudicationPool,
  ) {}

  /**
   * Runs a claim through one of the caller's contracts (or the demo contract) exactly as adjudication would (on the
   * worker pool, pended `contract-timeout` if the contract is too slow for it), and returns the full result (without a policy: denied CO-31, as a real claim would be, outside development).
   * Nothing is stored, paid or announced.
   */
  @Post(':id/simulate')
  @HttpCode(200)
  @Roles('insurer')
  @ApiZodBody(SimulateContractRequest, 'a claim, and optionally a hypothetical policy with its accumulators')
  async simulate(
    @Param('id', new ZodPipe(z.string().regex(/^[0-9a-f]{64}$/), 'CONTRACT.ID_INVALID')) id: string,
    @Body(new ZodPipe(SimulateContractRequest, 'SIMULATION.INVALID')) request: SimulateContractRequest,
    @CurrentPrincipal() insurer: Principal,
  ): Promise<Adjudication> {
    const contract = await this.repo.findContract(this.dataSource.manager, id, insurer.tenant);
    if (!contract) throw new DomainError('CONTRACT.NOT_FOUND', 'not-found', `No contract ${id}`);
    const { claim: requested, policy } = request;
    const { attested, ...rest } = requested;
    const claim = {
      ...rest,
      patientPseudonym: requested.patientPseudonym ?? null,
      ...(attested === false ? { unattested: true } : {}),
    };
    const coverage: PolicyContext | null = policy
      ? {
          policy: {
            id: SIMULATED_POLICY_ID,
            contractId: id,
            memberPseudonym: policy.memberPseudonym ?? null,
            ...policy.period,
          },
          accumulators: policy.accumulators ?? {},
        }
      : null;
    // On the worker pool, as adjudication runs it (ADR 17): a contract too slow for this claim pends it, as it would.
    const job = {
      contractId: id,
      contract: contract.definition,
      claim,
      coverage,
      review: null,
      algorithm: this.settings.algorithm,
    };
    return decisionOf(await this.pool.adjudicate(job), job);
  }
}
