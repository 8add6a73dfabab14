import { Module } from '@nestjs/common';
import { ContractRepository } from './contract.repository';
import { ContractSeederService } from './contract-seeder.service';
import { PublishContractService } from './publish-contract/publish-contract.service';
import { PublishContractHttpController } from './publish-contract/publish-contract.http.controller';
import { ReadContractsHttpController } from './read-contracts/read-contracts.http.controller';
import { SimulateContractHttpController } from './simulate-contract/simulate-contract.http.controller';

/** Insurers' contracts (rule sets plus parameters): publish, read, simulate, and the demo contract at start. */
@Module({
  controllers: [PublishContractHttpController, ReadContractsHttpController, SimulateContractHttpController],
  providers: [ContractRepository, PublishContractService, ContractSeederService],
  exports: [ContractRepository],
})
export class ContractsModule {}
