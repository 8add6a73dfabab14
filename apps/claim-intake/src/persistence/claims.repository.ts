import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { CloudEvent } from '@claimchain/contracts';
import { ClaimStatus, STATUS_RANK } from '../claims/claim-status';

export interface ClaimRow {
  id: string;
  insurer_id: string;
  provider_id: string;
  coverage: string;
  status: ClaimStatus;
  currency: string;
  total: string;
  payable: string | null;
  paid: string | null;
  submitted_at: Date;
  updated_at: Date;
}

export interface ClaimEventRow {
  event_id: string;
  type: string;
  time: Date | null;
  envelope: CloudEvent | null;
  ledger_index: string | null;
  leaf_hash: string | null;
  tree_size: string | null;
}

export interface NewClaim {
  id: string;
  insurerId: string;
  providerId: string;
  patientPseudonym: string;
  coverage: string;
  currency: string;
  total: string;
  resource: unknown;
  submittedAt: Date;
}

/** All SQL on claim-intake's tables. Plain SQL: these are hot paths, and rows never leave this class unmapped. */
@Injectable()
export class ClaimsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(em: EntityManager, claim: NewClaim): Promise<void> {
    await em.query(
      `INSERT INTO claims (id, insurer_id, provider_id, patient_pseudonym, coverage, status, currency, total, resource,
                           submitted_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, 'submitted', $6, $7, $8::jsonb, $9, $9)`,
      [
        claim.id,
        claim.insurerId,
        claim.providerId,
        claim.patientPseudonym,
        claim.coverage,
        claim.currency,
        claim.total,
        JSON.stringify(claim.resource),
        claim.submittedAt,
      ],
    );
  }

  async find(id: string): Promise<ClaimRow | undefined> {
    const rows: ClaimRow[] = await this.dataSource.query(
      `SELECT id, insurer_id, provider_id, coverage, status, currency, total::text, payable::text, paid::text,
              submitted_at, updated_at
         FROM claims WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  async exists(em: EntityManager, id: string): Promise<boolean> {
    const rows: unknown[] = await em.query(`SELECT 1 FROM claims WHERE id = $1`, [id]);
    return rows.length > 0;
  }

  async timeline(claimId: string): Promise<ClaimEventRow[]> {
    return this.dataSource.query(
      `SELECT event_id, type, time, envelope, ledger_index::text, leaf_hash, tree_size::text
         FROM claim_events WHERE claim_id = $1 ORDER BY time NULLS LAST, event_id`,
      [claimId],
    );
  }

  /** Records an event in the claim's timeline (idempotent: the anchor half may already be there). */
  async recordEvent(em: EntityManager, event: CloudEvent): Promise<void> {
    await em.query(
      `INSERT INTO claim_events (event_id, claim_id, type, time, envelope) VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT (event_id) DO UPDATE SET type = EXCLUDED.type, time = EXCLUDED.time, envelope = EXCLUDED.envelope`,
      [event.id, event.subject, event.type, event.time, JSON.stringify(event)],
    );
  }

  async recordAnchor(
    em: EntityManager,
    a: { eventId: string; claimId: string; eventType: string; leafIndex: number; leafHash: string; treeSize: number },
  ): Promise<void> {
    await em.query(
      `INSERT INTO claim_events (event_id, claim_id, type, ledger_index, leaf_hash, tree_size)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (event_id) DO UPDATE
         SET ledger_index = EXCLUDED.ledger_index, leaf_hash = EXCLUDED.leaf_hash, tree_size = EXCLUDED.tree_size`,
      [a.eventId, a.claimId, a.eventType, a.leafIndex, a.leafHash, a.treeSize],
    );
  }

  /** Moves the status forward only (see STATUS_RANK); amounts are set when given. */
  async advance(
    em: EntityManager,
    claimId: string,
    status: ClaimStatus,
    amounts: { payable?: string; paid?: string } = {},
  ): Promise<void> {
    const lowerRanks = Object.entries(STATUS_RANK)
      .filter(([, rank]) => rank < STATUS_RANK[status])
      .map(([s]) => s);
    await em.query(
      `UPDATE claims
          SET status = CASE WHEN status = ANY($3::text[]) THEN $2 ELSE status END,
              payable = COALESCE($4::numeric, payable),
              paid = COALESCE($5::numeric, paid),
              updated_at = now()
        WHERE id = $1`,
      [claimId, status, lowerRanks, amounts.payable ?? null, amounts.paid ?? null],
    );
  }
}
