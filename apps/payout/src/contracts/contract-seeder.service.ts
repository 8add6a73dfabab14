import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DEMO_CONTRACT } from '../engine/contract.definition';
import { PublishContractService } from './publish-contract/publish-contract.service';
import { CONTRACT_SETTINGS, ContractSettings } from './contract-settings.module';

/**
 * Development only (`DEMO_CONTRACT`): publishes the demo contract once (idempotent by its content hash), with its
 * `contracts.published.v1` event so the ledger proves which rules were in force. It pays claims without a policy
 * for insurers that have published no contract of their own. Without the setting nothing is published.
 */
@Injectable()
export class ContractSeederService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ContractSeederService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly contracts: PublishContractService,
    @Inject(CONTRACT_SETTINGS) private readonly settings: ContractSettings,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.settings.demoContract) return;
    await this.dataSource.transaction(async (em) => {
      const { status, body } = await this.contracts.create(em, DEMO_CONTRACT);
      if (status === 201) this.logger.log(`published demo contract ${body.id}`);
    });
  }
}
