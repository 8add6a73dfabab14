import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
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
    await em.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`confirm:${claimId}`]);
  }

  async rememberClaim(em: EntityManager, claim: ClaimSubmittedV1): Promise<void> {
    await em.query(
      `INSERT INTO claims (claim_id, insurer_id, provider_id, items) VALUES ($1, $2, $3, $4::jsonb)
       ON CONFLICT (claim_id) DO NOTHING`,
      [claim.claimId, claim.insurerId, claim.providerId, JSON.stringify(claim.items)],
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

  async deleteConfirmation(em: EntityManager, id: string): Promise<void> {
    await em.query(`DELETE FROM confirmations WHERE id = $1`, [id]);
  }

  async decidePending(
    em: EntityManager,
    id: string,
    outcome: Exclude<ConfirmationOutcome, 'pending'>,
    reasons: unknown,
  ): Promise<void> {
    await em.query(
      `UPDATE confirmations SET outcome = $2, reasons = $3::jsonb, decided_at = now() WHERE id = $1 AND outcome = 'pending'`,
      [id, outcome, JSON.stringify(reasons)],
    );
  }
}
