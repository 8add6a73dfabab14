import { ContractDefinition } from '../engine/contract.definition';
import { ContractRow } from './contract.repository';

/** A contract as the API shows it: its id, owner and exactly the definition that id hashes. */
export interface ContractResponseDto {
  id: string;
  insurerId: string;
  name: string;
  version: string;
  parameters: ContractDefinition['parameters'];
  rules: ContractDefinition['rules'];
  publishedAt: string;
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
  };
}
