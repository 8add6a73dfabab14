import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ContractDefinition } from '../engine/contract.definition';
import { ALWAYS, ContractPeriod } from './contract-state';

export interface ContractRow {
  id: string;
  insurer_id: string;
  definition: ContractDefinition;
  published_at: Date;
  /** YYYY-MM-DD; null: a draft (ADR 21). */
  effective_from: string | null;
  retired_from: string | null;
}

const COLUMNS = `id, insurer_id, definition, published_at, effective_from::text AS effective_from,
  retired_from::text AS retired_from`;
const C_COLUMNS = `c.id, c.insurer_id, c.definition, c.published_at, c.effective_from::text AS effective_from,
  c.retired_from::text AS retired_from`;

/**
 * SQL on `contracts`: published rule sets, immutable, keyed by the hash of their definition, each with the period
 * it decides claims in (`effective_from`, `retired_from`; ADR 21).
 */
@Injectable()
export class ContractRepository {
  /**
   * `effectiveFrom` null inserts a draft; left out, active from 0001-01-01 as through v1. Nothing changes when the id
   * exists (whatever its state).
   */
  async insertContract(
    em: EntityManager,
    c: { id: string; definition: ContractDefinition; effectiveFrom?: string | null },
  ): Promise<boolean> {
    const rows: unknown[] = await em.query(
      `INSERT INTO contracts (id, insurer_id, name, version, definition, effective_from)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::date)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [
        c.id,
        c.definition.insurerId,
        c.definition.name,
        c.definition.version,
        JSON.stringify(c.definition),
        c.effectiveFrom === undefined ? ALWAYS : c.effectiveFrom,
      ],
    );
    return rows.length > 0;
  }

  /** A contract the insurer may see: its own or the catch-all (`*`) one. */
  async findContract(em: EntityManager, id: string, insurerId: string): Promise<ContractRow | undefined> {
    const rows: ContractRow[] = await em.query(
      `SELECT ${COLUMNS} FROM contracts WHERE id = $1 AND insurer_id IN ($2, '*')`,
      [id, insurerId],
    );
    return rows[0];
  }

  /** The insurer's own contract (never the catch-all one), locked until commit: its lifecycle changes one at a time. */
  async lockOwnContract(em: EntityManager, id: string, insurerId: string): Promise<ContractRow | undefined> {
    const rows: ContractRow[] = await em.query(
      `SELECT ${COLUMNS} FROM contracts WHERE id = $1 AND insurer_id = $2 FOR UPDATE`,
      [id, insurerId],
    );
    return rows[0];
  }

  async setPeriod(em: EntityManager, id: string, period: ContractPeriod): Promise<void> {
    await em.query(`UPDATE contracts SET effective_from = $2::date, retired_from = $3::date WHERE id = $1`, [
      id,
      period.effectiveFrom,
      period.retiredFrom,
    ]);
  }

  /** The insurer's own contracts, newest first. */
  async listContracts(em: EntityManager, insurerId: string, limit: number): Promise<ContractRow[]> {
    return em.query(
      `SELECT ${COLUMNS} FROM contracts WHERE insurer_id = $1
        ORDER BY published_at DESC, id LIMIT $2`,
      [insurerId, limit],
    );
  }

  /**
   * For a claim without a policy: the insurer's newest contract in force on `serviceDate`, else its newest activated
   * one, else the catch-all (`*`) one. Drafts are never chosen (ADR 21).
   */
  async contractFor(em: EntityManager, insurerId: string, serviceDate: string): Promise<ContractRow | undefined> {
    const rows: ContractRow[] = await em.query(
      `SELECT ${COLUMNS} FROM contracts WHERE insurer_id IN ($1, '*') AND effective_from IS NOT NULL
        ORDER BY (insurer_id = $1) DESC,
                 (effective_from <= $2::date AND (retired_from IS NULL OR retired_from > $2::date)) DESC,
                 published_at DESC
        LIMIT 1`,
      [insurerId, serviceDate],
    );
    return rows[0];
  }

  /**
   * findContract and contractFor for a whole batch of claims, one query each, by the caller's keys: what a batch of
   * claims is decided by, without an awaited round trip per insurer and date.
   */
  async contractsOf(
    em: EntityManager,
    wanted: {
      byId: readonly { key: string; id: string; insurerId: string }[];
      byDate: readonly { key: string; insurerId: string; serviceDate: string }[];
    },
  ): Promise<Map<string, ContractRow>> {
    const found = new Map<string, ContractRow>();
    const keep = (rows: (ContractRow & { key: string })[]) => rows.forEach(({ key, ...row }) => found.set(key, row));
    if (wanted.byId.length > 0) {
      keep(
        await em.query(
          `SELECT k.key, ${C_COLUMNS}
             FROM jsonb_to_recordset($1::jsonb) AS k(key text, id text, "insurerId" text)
             JOIN contracts c ON c.id = k.id AND c.insurer_id IN (k."insurerId", '*')`,
          [JSON.stringify(wanted.byId)],
        ),
      );
    }
    if (wanted.byDate.length > 0) {
      keep(
        await em.query(
          `SELECT k.key, c.*
             FROM jsonb_to_recordset($1::jsonb) AS k(key text, "insurerId" text, "serviceDate" date)
             CROSS JOIN LATERAL (
               SELECT ${C_COLUMNS} FROM contracts c
                WHERE c.insurer_id IN (k."insurerId", '*') AND c.effective_from IS NOT NULL
                ORDER BY (c.insurer_id = k."insurerId") DESC,
                         (c.effective_from <= k."serviceDate"
                           AND (c.retired_from IS NULL OR c.retired_from > k."serviceDate")) DESC,
                         c.published_at DESC
                LIMIT 1) c`,
          [JSON.stringify(wanted.byDate)],
        ),
      );
    }
    return found;
  }
}
