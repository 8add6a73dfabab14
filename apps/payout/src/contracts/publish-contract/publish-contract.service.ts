import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Topics } from '@claimchain/wire';
import { oncePerKey, Principal, StoredResponse } from '@claimchain/http';
import { OutboxWriter } from '@claimchain/messaging';
import { PAYOUT_SOURCE } from '../../payout.source';
import { ContractDefinition, contractIdOf, PublishContractRequest } from '../../engine/contract.definition';
import { ContractResponseDto, toContractDto } from '../contract.mapper';
import { ALWAYS } from '../contract-state';
import { contractStateEvent } from '../contract-state.event';
import { ContractRepository } from '../contract.repository';

/**
 * Publishes an insurer's contract: immutable, identified by the SHA-256 of its canonical JSON (owner included, so
 * two insurers never share an id), stored with its `contracts.published.v1` event and its first
 * `contracts.states.v1` event in one transaction so the ledger proves which rules were in force when. Through v1 it
 * is active from 0001-01-01 at once; through v2 it is a draft, which decides no claim until it is activated (ADR 21).
 * Publishing the same content again changes nothing (whatever its state now) and answers 200 with the same id.
 */
@Injectable()
export class PublishContractService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: ContractRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  /** `as: 'active'` is v1 (in force from 0001-01-01 at once), `as: 'draft'` v2. */
  async publish(
    request: PublishContractRequest,
    caller: Principal,
    idempotencyKey: string,
    as: 'active' | 'draft' = 'active',
  ): Promise<StoredResponse<ContractResponseDto>> {
    const definition: ContractDefinition = { insurerId: caller.tenant, ...request };
    // v1 and v2 keys apart: the same key and body must not answer a draft for an active publish, or the reverse.
    const scope = as === 'draft' ? 'publish-contract-draft' : 'publish-contract';
    return this.dataSource.transaction((em) =>
      oncePerKey(em, `${caller.tenant}:${scope}`, idempotencyKey, request, () => this.create(em, definition, as)),
    );
  }

  /** Also used by the demo contract seeder (active: the demo path never sees a draft). */
  async create(
    em: EntityManager,
    definition: ContractDefinition,
    as: 'active' | 'draft' = 'active',
  ): Promise<{ status: number; body: ContractResponseDto }> {
    const id = contractIdOf(definition);
    const effectiveFrom = as === 'active' ? ALWAYS : null;
    const inserted = await this.repo.insertContract(em, { id, definition, effectiveFrom });
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
      await this.outbox.add(
        em,
        Topics.ContractsStates,
        contractStateEvent(row, as === 'active' ? 'activated' : 'drafted', new Date(row.published_at)),
      );
    }
    return { status: inserted ? 201 : 200, body: toContractDto(row) };
  }
}
