import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ContractDefinition } from '../engine/contract.definition';

export interface ContractRow {
  id: string;
  insurer_id: string;
  definition: ContractDefinition;
  published_at: Date;
}

/** SQL on `contracts`: published rule sets, immutable, keyed by the hash of their definition. */
@Injectable()
export class ContractRepository {
  async insertContract(em: EntityManager, c: { id: string; definition: ContractDefinition }): Promise<boolean> {
    const rows: unknown[] = await em.query(
      `INSERT INTO contracts (id, insurer_id, name, version, definition) VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [c.id, c.definition.insurerId, c.definition.name, c.definition.version, JSON.stringify(c.definition)],
    );
    return rows.length > 0;
  }

  /** A contract the insurer may see: its own or the catch-all (`*`) one. */
  async findContract(em: EntityManager, id: string, insurerId: string): Promise<ContractRow | undefined> {
    const rows: ContractRow[] = await em.query(
      `SELECT id, insurer_id, definition, published_at FROM contracts WHERE id = $1 AND insurer_id IN ($2, '*')`,
      [id, insurerId],
    );
    return rows[0];
  }

  /** The insurer's own contracts, newest first. */
  async listContracts(em: EntityManager, insurerId: string, limit: number): Promise<ContractRow[]> {
    return em.query(
      `SELECT id, insurer_id, definition, published_at FROM contracts WHERE insurer_id = $1
        ORDER BY published_at DESC, id LIMIT $2`,
      [insurerId, limit],
    );
  }

  /** The insurer's newest contract, else the catch-all (`*`) one. */
  async contractFor(
    em: EntityManager,
    insurerId: string,
  ): Promise<{ id: string; definition: ContractDefinition } | undefined> {
    const rows: { id: string; definition: ContractDefinition }[] = await em.query(
      `SELECT id, definition FROM contracts WHERE insurer_id IN ($1, '*')
        ORDER BY (insurer_id = $1) DESC, published_at DESC LIMIT 1`,
      [insurerId],
    );
    return rows[0];
  }
}
