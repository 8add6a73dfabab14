import { Inject, Injectable } from '@nestjs/common';
import Decimal from 'decimal.js';
import { DataSource } from 'typeorm';
import { DomainError } from '@claimchain/http';
import { AdjudicationPool, decisionOf } from '../../adjudication-pool/adjudication.pool';
import { ContractRepository } from '../contract.repository';
import { CONTRACT_SETTINGS, ContractSettings } from '../contract-settings.module';
import { BacktestSampleRepository } from './backtest-sample.repository';

export interface BacktestResultDto {
  contractId: string;
  claims: {
    claimId: string;
    decided: { contractId: string; decision: string; payable: string };
    backtest: { decision: string; payable: string };
  }[];
  totals: { claims: number; changed: number; decidedPayable: string; backtestPayable: string };
}

/**
 * A backtest before a contract is put to use (enrolling policies on it): the caller's most recent decided claims run
 * through it as adjudication would run them now, each from the policy terms and plan-year accumulators it was
 * decided on (so each is "what this claim would have got", not a chained re-run of the year), beside what was
 * decided. Read-only: nothing is stored, paid or announced.
 */
@Injectable()
export class BacktestContractService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly contracts: ContractRepository,
    private readonly sample: BacktestSampleRepository,
    @Inject(CONTRACT_SETTINGS) private readonly settings: ContractSettings,
    private readonly pool: AdjudicationPool,
  ) {}

  async backtest(contractId: string, insurerId: string, limit: number): Promise<BacktestResultDto> {
    const em = this.dataSource.manager;
    const contract = await this.contracts.findContract(em, contractId, insurerId);
    if (!contract) throw new DomainError('CONTRACT.NOT_FOUND', 'not-found', `No contract ${contractId}`);
    const decided = await this.sample.latestDecided(em, insurerId, limit);
    // The sample runs on the worker pool in one call, as adjudication runs (ADR 17): a claim the contract cannot
    // decide in time shows as pended, as it would be.
    const jobs = decided.map((d) => ({
      contractId,
      contract: contract.definition,
      claim: d.claim,
      coverage: d.policy ? { policy: d.policy, accumulators: d.accumulatorsBefore } : null,
      review: null,
      algorithm: this.settings.algorithm,
    }));
    const outcomes = await this.pool.adjudicateMany(jobs);
    const claims: BacktestResultDto['claims'] = decided.map((d, k) => {
      const result = decisionOf(outcomes[k], jobs[k]);
      return {
        claimId: d.claimId,
        decided: d.decided,
        backtest: { decision: result.decision, payable: result.payable },
      };
    });
    const sum = (pick: (c: BacktestResultDto['claims'][number]) => string) =>
      claims.reduce((total, c) => total.plus(pick(c)), new Decimal(0)).toFixed(2);
    return {
      contractId,
      claims,
      totals: {
        claims: claims.length,
        changed: claims.filter(
          (c) => c.decided.decision !== c.backtest.decision || !new Decimal(c.decided.payable).eq(c.backtest.payable),
        ).length,
        decidedPayable: sum((c) => c.decided.payable),
        backtestPayable: sum((c) => c.backtest.payable),
      },
    };
  }
}
