import { ContractDefinition } from '../engine/contract.definition';
import { ContractRow } from './contract.repository';
import { ContractPeriod, ContractState, stateOn, todayUtc } from './contract-state';

/** A contract as the API shows it: its id, owner and exactly the definition that id hashes. */
export interface ContractResponseDto {
  id: string;
  insurerId: string;
  name: string;
  version: string;
  parameters: ContractDefinition['parameters'];
  rules: ContractDefinition['rules'];
  publishedAt: string;
  /** As of today (UTC): draft, scheduled (activated from a later date), active or retired (ADR 21). */
  state: ContractState;
  /** The first service date it decides claims for; null while a draft. */
  effectiveFrom: string | null;
  /** The first service date it no longer decides claims for; null unless retired. */
  retiredFrom: string | null;
}

export function toContractDto(row: ContractRow): ContractResponseDto {
  const d = row.definition;
  return {
    id: row.id,
    insurerId: row.insurer_id,
    name: d.name,
    version: d.version,
    parameters: d.parameters,
    rules: d.rules,
    publishedAt: new Date(row.published_at).toISOString(),
    state: stateOn(periodOf(row), todayUtc()),
    effectiveFrom: row.effective_from,
    retiredFrom: row.retired_from,
  };
}

export function periodOf(row: ContractRow): ContractPeriod {
  return { effectiveFrom: row.effective_from, retiredFrom: row.retired_from };
}
