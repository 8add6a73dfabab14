import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Topics } from '@claimchain/wire';
import { DomainError, oncePerKey, Principal, StoredResponse } from '@claimchain/http';
import { OutboxWriter } from '@claimchain/messaging';
import { ContractResponseDto, toContractDto } from '../contract.mapper';
import { ContractRepository, ContractRow } from '../contract.repository';
import { todayUtc } from '../contract-state';
import { contractStateEvent } from '../contract-state.event';
import { ActivateContractRequest, RetireContractRequest } from './contract-lifecycle.request';

/**
 * A contract's lifecycle after publication (ADR 21): a draft is activated from a date, an activated (or draft)
 * contract is retired from a date. Only the contract's own insurer may change it (another's, and the demo contract,
 * are 404, as on every contract route). Neither date may lie before today (UTC): which rules decide a service date
 * is fixed before that date, never chosen after its claims are known. Each change is stored with its
 * `contracts.states.v1` event in one transaction, under the contract's row lock. Asking again for the state the
 * contract is in answers 200 and changes nothing; any other change of a date already set is 409.
 */
@Injectable()
export class ContractLifecycleService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: ContractRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  async activate(
    id: string,
    request: ActivateContractRequest,
    caller: Principal,
    idempotencyKey: string,
  ): Promise<StoredResponse<ContractResponseDto>> {
    return this.change(id, caller, idempotencyKey, 'activate-contract', request, async (em, row) => {
      const { effectiveFrom } = request;
      if (row.effective_from === effectiveFrom && row.retired_from === null) return undefined;
      if (row.retired_from !== null) {
        throw conflict('CONTRACT.RETIRED', `Contract ${id} is retired from ${row.retired_from}`, '');
      }
      if (row.effective_from !== null) {
        throw conflict(
          'CONTRACT.ALREADY_ACTIVE',
          `Contract ${id} is active from ${row.effective_from}`,
          '/effectiveFrom',
        );
      }
      notBeforeToday('/effectiveFrom', effectiveFrom);
      await this.repo.setPeriod(em, id, { effectiveFrom, retiredFrom: null });
      return 'activated';
    });
  }

  async retire(
    id: string,
    request: RetireContractRequest,
    caller: Principal,
    idempotencyKey: string,
  ): Promise<StoredResponse<ContractResponseDto>> {
    return this.change(id, caller, idempotencyKey, 'retire-contract', request, async (em, row) => {
      const { retiredFrom } = request;
      if (row.retired_from === retiredFrom) return undefined;
      if (row.retired_from !== null) {
        throw conflict('CONTRACT.RETIRED', `Contract ${id} is retired from ${row.retired_from}`, '/retiredFrom');
      }
      notBeforeToday('/retiredFrom', retiredFrom);
      if (row.effective_from !== null && retiredFrom <= row.effective_from) {
        throw new DomainError('CONTRACT.INVALID', 'invalid', 'A contract retires after it becomes active', [
          { pointer: '/retiredFrom', detail: `must be after its effectiveFrom ${row.effective_from}` },
        ]);
      }
      await this.repo.setPeriod(em, id, { effectiveFrom: row.effective_from, retiredFrom });
      return 'retired';
    });
  }

  private change(
    id: string,
    caller: Principal,
    idempotencyKey: string,
    operation: string,
    request: unknown,
    apply: (em: EntityManager, row: ContractRow) => Promise<'activated' | 'retired' | undefined>,
  ): Promise<StoredResponse<ContractResponseDto>> {
    return this.dataSource.transaction((em) =>
      oncePerKey(em, `${caller.tenant}:${operation}`, idempotencyKey, { id, request }, async () => {
        const row = await this.repo.lockOwnContract(em, id, caller.tenant);
        if (!row) throw new DomainError('CONTRACT.NOT_FOUND', 'not-found', `No contract ${id}`);
        const change = await apply(em, row);
        if (!change) return { status: 200, body: toContractDto(row) };
        const changed = (await this.repo.lockOwnContract(em, id, caller.tenant))!;
        await this.outbox.add(em, Topics.ContractsStates, contractStateEvent(changed, change, new Date()));
        return { status: 200, body: toContractDto(changed) };
      }),
    );
  }
}

function conflict(code: string, message: string, pointer: string): DomainError {
  return new DomainError(code, 'conflict', message, pointer ? [{ pointer, detail: message }] : []);
}

function notBeforeToday(pointer: string, date: string): void {
  const today = todayUtc();
  if (date < today) {
    throw new DomainError('CONTRACT.INVALID', 'invalid', 'A contract changes state from today on, never before', [
      { pointer, detail: `must be today (${today}, UTC) or later` },
    ]);
  }
}
