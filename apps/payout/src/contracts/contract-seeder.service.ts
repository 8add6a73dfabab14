import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Topics } from '@claimchain/contracts';
import { OutboxWriter } from '@claimchain/messaging';
import { PayoutRepository } from '../persistence/payout.repository';
import { contractIdOf, DEMO_CONTRACT } from './contract.definition';
import { PAYOUT_SOURCE } from '../adjudication/adjudicate-claim.service';

/**
 * Publishes the demo contract once (idempotent by its content hash), with its `contracts.published.v1` event so the
 * ledger proves which rules were in force. Contract management replaces this with an insurer API.
 */
@Injectable()
export class ContractSeederService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ContractSeederService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: PayoutRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const id = contractIdOf(DEMO_CONTRACT);
    await this.dataSource.transaction(async (em) => {
      if (!(await this.repo.insertContract(em, { id, definition: DEMO_CONTRACT }))) return;
      await this.outbox.add(em, Topics.ContractsPublished, {
        source: PAYOUT_SOURCE,
        subject: id,
        data: {
          contractId: id,
          insurerId: DEMO_CONTRACT.insurerId,
          name: DEMO_CONTRACT.name,
          version: DEMO_CONTRACT.version,
          definition: DEMO_CONTRACT as unknown as Record<string, unknown>,
          publishedAt: new Date().toISOString(),
        },
      });
      this.logger.log(`published demo contract ${id}`);
    });
  }
}
