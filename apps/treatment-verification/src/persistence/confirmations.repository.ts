import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { lockInOrder } from '@claimchain/messaging';
import { ClaimSubmittedV1 } from '@claimchain/contracts';
import { PerformedTreatment } from '../confirmations/confirm-treatment/treatment-matcher';

export interface KnownClaim {
  claim_id: string;
  insurer_id: string;
  provider_id: string;
  items: ClaimSubmittedV1['items'];
}

export type ConfirmationOutcome = 'pending' | 'verified' | 'rejected';

export interface ConfirmationRow {
  id: string;
  claim_id: string;
  provider_id: string;
  outcome: ConfirmationOutcome;
  performed: PerformedTreatment[];
  reasons: unknown[];
}

/** All SQL on treatment-verification's tables. */
@Injectable()
export class ConfirmationsRepository {
  /**
   * Serialises the two ways a claim gets decided (a confirmation POST, the claim's arrival), which may race when
   * the provider confirms just as the claim arrives.
   */
  async lockClaimId(em: EntityManager, claimId: string): Promise<void> {
    await this.lockClaimIds(em, [claimId]);
  }

  /** lockClaimId for many, in one statement and one global order, so two batches cannot deadlock. */
  async lockClaimIds(em: EntityManager, claimIds: readonly string[]): Promise<void> {
    await lockInOrder(
      em,
      claimIds.map((id) => `confirm:${id}`),
    );
  }

  /** The claims' lines, to match confirmations against, in one statement. */
  async rememberClaims(em: EntityManager, claims: readonly ClaimSubmittedV1[]): Promise<void> {
    if (claims.length === 0) return;
    await em.query(
      `INSERT INTO claims (claim_id, insurer_id, provider_id, items)
       SELECT c."claimId", c."insurerId", c."providerId", c.items
         FROM jsonb_to_recordset($1::jsonb) AS c("claimId" uuid, "insurerId" text, "providerId" text, items jsonb)
       ON CONFLICT (claim_id) DO NOTHING`,
      [
        JSON.stringify(
          claims.map(({ claimId, insurerId, providerId, items }) => ({ claimId, insurerId, providerId, items })),
        ),
      ],
    );
  }

  async findClaim(em: EntityManager, claimId: string): Promise<KnownClaim | undefined> {
    const rows: KnownClaim[] = await em.query(
      `SELECT claim_id, insurer_id, provider_id, items FROM claims WHERE claim_id = $1`,
      [claimId],
    );
    return rows[0];
  }

  async confirmationForClaim(em: EntityManager, claimId: string): Promise<ConfirmationRow | undefined> {
    const rows: ConfirmationRow[] = await em.query(
      `SELECT id, claim_id, provider_id, outcome, performed, reasons FROM confirmations WHERE claim_id = $1`,
      [claimId],
    );
    return rows[0];
  }

  async findConfirmation(em: EntityManager, id: string): Promise<ConfirmationRow | undefined> {
    const rows: ConfirmationRow[] = await em.query(
      `SELECT id, claim_id, provider_id, outcome, performed, reasons FROM confirmations WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  async insertConfirmation(
    em: EntityManager,
    c: {
      id: string;
      claimId: string;
      providerId: string;
      outcome: ConfirmationOutcome;
      performed: unknown;
      reasons: unknown;
    },
  ): Promise<void> {
    await em.query(
      `INSERT INTO confirmations (id, claim_id, provider_id, outcome, performed, reasons, decided_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, CASE WHEN $4 = 'pending' THEN NULL ELSE now() END)`,
      [c.id, c.claimId, c.providerId, c.outcome, JSON.stringify(c.performed), JSON.stringify(c.reasons)],
    );
  }

  /** The confirmations still waiting for these claims, one query. */
  async pendingFor(em: EntityManager, claimIds: readonly string[]): Promise<ConfirmationRow[]> {
    if (claimIds.length === 0) return [];
    return em.query(
      `SELECT id, claim_id::text, provider_id, outcome, performed, reasons FROM confirmations
        WHERE claim_id = ANY($1::uuid[]) AND outcome = 'pending'`,
      [claimIds],
    );
  }

  /** decidePending and deleteConfirmation for many, in two statements. */
  async settlePending(
    em: EntityManager,
    decided: { id: string; outcome: Exclude<ConfirmationOutcome, 'pending'>; reasons: unknown }[],
    discarded: string[],
  ): Promise<void> {
    if (discarded.length > 0) await em.query(`DELETE FROM confirmations WHERE id = ANY($1::uuid[])`, [discarded]);
    if (decided.length === 0) return;
    await em.query(
      `UPDATE confirmations f SET outcome = d.outcome, reasons = d.reasons, decided_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS d(id uuid, outcome text, reasons jsonb)
        WHERE f.id = d.id AND f.outcome = 'pending'`,
      [JSON.stringify(decided)],
    );
  }
}
