import { Module } from '@nestjs/common';
import { ContractRepository } from './contract.repository';
import { ContractSeederService } from './contract-seeder.service';
import { PublishContractService } from './publish-contract/publish-contract.service';
import { PublishContractHttpController } from './publish-contract/publish-contract.http.controller';
import { ReadContractsHttpController } from './read-contracts/read-contracts.http.controller';
import { SimulateContractHttpController } from './simulate-contract/simulate-contract.http.controller';
import { BacktestContractHttpController } from './backtest-contract/backtest-contract.http.controller';
import { BacktestContractService } from './backtest-contract/backtest-contract.service';
import { ContractLifecycleHttpController } from './contract-lifecycle/contract-lifecycle.http.controller';
import { ContractLifecycleService } from './contract-lifecycle/contract-lifecycle.service';
import { BacktestSampleRepository } from './backtest-contract/backtest-sample.repository';

/**
 * Insurers' contracts (rule sets plus parameters): publish (v1 active at once, v2 as a draft), activate and retire
 * (`contract-lifecycle/`, ADR 21), read, simulate, backtest over past claims, and the demo contract at start
 * (development).
 */
@Module({
  controllers: [
    PublishContractHttpController,
    ReadContractsHttpController,
    SimulateContractHttpController,
    BacktestContractHttpController,
    ContractLifecycleHttpController,
  ],
  providers: [
    ContractRepository,
    PublishContractService,
    ContractSeederService,
    BacktestContractService,
    BacktestSampleRepository,
    ContractLifecycleService,
  ],
  exports: [ContractRepository],
})
export class ContractsModule {}
