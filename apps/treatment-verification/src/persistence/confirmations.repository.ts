import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ClaimSubmittedV1 } from '@claimchain/contracts';

export interface KnownClaim {
  claim_id: string;
  insurer_id: string;
  provider_id: string;
  items: ClaimSubmittedV1['items'];
}

/** All SQL on treatment-verification's tables. */
@Injectable()
export class ConfirmationsRepository {
  async rememberClaim(em: EntityManager, claim: ClaimSubmittedV1): Promise<void> {
    await em.query(
      `INSERT INTO claims (claim_id, insurer_id, provider_id, items) VALUES ($1, $2, $3, $4::jsonb)
       ON CONFLICT (claim_id) DO NOTHING`,
      [claim.claimId, claim.insurerId, claim.providerId, JSON.stringify(claim.items)],
    );
  }

  /** Locks the claim row so two concurrent confirmations of one claim are decided one after the other. */
  async lockClaim(em: EntityManager, claimId: string): Promise<KnownClaim | undefined> {
    const rows: KnownClaim[] = await em.query(
      `SELECT claim_id, insurer_id, provider_id, items FROM claims WHERE claim_id = $1 FOR UPDATE`,
      [claimId],
    );
    return rows[0];
  }

  async hasConfirmation(em: EntityManager, claimId: string): Promise<boolean> {
    const rows: unknown[] = await em.query(`SELECT 1 FROM confirmations WHERE claim_id = $1`, [claimId]);
    return rows.length > 0;
  }

  async insertConfirmation(
    em: EntityManager,
    c: { id: string; claimId: string; outcome: 'verified' | 'rejected'; performed: unknown; reasons: unknown },
  ): Promise<void> {
    await em.query(
      `INSERT INTO confirmations (id, claim_id, outcome, performed, reasons) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)`,
      [c.id, c.claimId, c.outcome, JSON.stringify(c.performed), JSON.stringify(c.reasons)],
    );
  }
}
