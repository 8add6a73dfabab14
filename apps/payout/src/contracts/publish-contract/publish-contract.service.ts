import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Topics } from '@claimchain/wire';
import { oncePerKey, Principal, StoredResponse } from '@claimchain/http';
import { OutboxWriter } from '@claimchain/messaging';
import { PAYOUT_SOURCE } from '../../payout.source';
import { ContractDefinition, contractIdOf, PublishContractRequest } from '../../engine/contract.definition';
import { ContractResponseDto, toContractDto } from '../contract.mapper';
import { ContractRepository } from '../contract.repository';

/**
 * Publishes an insurer's contract: immutable, identified by the SHA-256 of its canonical JSON (owner included, so
 * two insurers never share an id), stored with its `contracts.published.v1` event in one transaction so the
 * ledger proves which rules were in force. Publishing the same content again changes nothing and answers 200 with
 * the same id.
 */
@Injectable()
export class PublishContractService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: ContractRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  async publish(
    request: PublishContractRequest,
    caller: Principal,
    idempotencyKey: string,
  ): Promise<StoredResponse<ContractResponseDto>> {
    const definition: ContractDefinition = { insurerId: caller.tenant, ...request };
    return this.dataSource.transaction((em) =>
      oncePerKey(em, `${caller.tenant}:publish-contract`, idempotencyKey, request, () => this.create(em, definition)),
    );
  }

  /** Also used by the demo contract seeder. */
  async create(
    em: EntityManager,
    definition: ContractDefinition,
  ): Promise<{ status: number; body: ContractResponseDto }> {
    const id = contractIdOf(definition);
    const inserted = await this.repo.insertContract(em, { id, definition });
    const row = (await this.repo.findContract(em, id, definition.insurerId))!;
    if (inserted) {
      await this.outbox.add(em, Topics.ContractsPublished, {
        source: PAYOUT_SOURCE,
        subject: id,
        tenantid: definition.insurerId === '*' ? undefined : definition.insurerId,
        time: new Date(row.published_at),
        data: {
          contractId: id,
          insurerId: definition.insurerId,
          name: definition.name,
          version: definition.version,
          definition: definition as unknown as Record<string, unknown>,
          publishedAt: new Date(row.published_at).toISOString(),
        },
      });
    }
    return { status: inserted ? 201 : 200, body: toContractDto(row) };
  }
}
