import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { TreatmentVerifiedV1 } from '@claimchain/wire';
import { Adjudication } from '../engine/adjudicate';
import { PendingClaim } from '../adjudication/adjudication.repository';

export interface PendedClaimRow {
  claimId: string;
  insurerId: string;
  contractId: string;
  policyId: string | null;
  result: Adjudication & { verifiedEventId: string };
  pendedAt: Date;
  claim: PendingClaim['claim'];
  /** The data of the verification the claim was pended on, as payout stored it. */
  verification: TreatmentVerifiedV1 | null;
  decided: boolean;
  cancelled: boolean;
}

const PENDED_SELECT = `
  SELECT a.claim_id AS "claimId", c.insurer_id AS "insurerId", a.contract_id AS "contractId",
         a.policy_id AS "policyId", a.result, a.created_at AS "pendedAt", (r.claim_id IS NOT NULL) AS decided,
         EXISTS (SELECT 1 FROM cancellations x WHERE x.claim_id = a.claim_id) AS cancelled,
         (SELECT v.envelope->'data' FROM verifications v WHERE v.claim_id = a.claim_id) AS verification,
         json_build_object('insurer_id', c.insurer_id, 'provider_id', c.provider_id, 'currency', c.currency,
                           'items', c.items, 'coverage', c.coverage, 'patient_pseudonym', c.patient_pseudonym) AS claim
    FROM adjudications a
    JOIN claims c ON c.claim_id = a.claim_id
    LEFT JOIN review_decisions r ON r.claim_id = a.claim_id`;

/** SQL of manual review: pended adjudications and the `review_decisions` that settle them. */
@Injectable()
export class ReviewRepository {
  /** Pended claims of an insurer awaiting review, oldest first. */
  async pendedClaims(em: EntityManager, insurerId: string, limit: number): Promise<PendedClaimRow[]> {
    return em.query(
      `${PENDED_SELECT} WHERE a.decision = 'pended' AND c.insurer_id = $1 AND r.claim_id IS NULL
          AND NOT EXISTS (SELECT 1 FROM cancellations x WHERE x.claim_id = a.claim_id)
        ORDER BY a.created_at, a.claim_id LIMIT $2`,
      [insurerId, limit],
    );
  }

  async pendedClaim(em: EntityManager, claimId: string): Promise<PendedClaimRow | undefined> {
    const rows: PendedClaimRow[] = await em.query(`${PENDED_SELECT} WHERE a.decision = 'pended' AND a.claim_id = $1`, [
      claimId,
    ]);
    return rows[0];
  }

  /**
   * Whether this insurer's claim had a pended decision set aside because its provider withdrew the verification it
   * was made on (ADR 25), and has not been decided again since: it awaits the provider's correction.
   */
  async awaitsCorrection(em: EntityManager, claimId: string, insurerId: string): Promise<boolean> {
    const rows: unknown[] = await em.query(
      `SELECT 1 FROM set_aside_adjudications s JOIN claims c ON c.claim_id = s.claim_id
        WHERE s.claim_id = $1 AND c.insurer_id = $2
          AND NOT EXISTS (SELECT 1 FROM adjudications a WHERE a.claim_id = s.claim_id)
        LIMIT 1`,
      [claimId, insurerId],
    );
    return rows.length > 0;
  }

  async insertReviewDecision(
    em: EntityManager,
    d: { claimId: string; decision: string; reason: string; reviewer: string; result: Adjudication },
  ): Promise<void> {
    await em.query(
      `INSERT INTO review_decisions (claim_id, decision, reason, reviewer, outcome, payable, result)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)`,
      [d.claimId, d.decision, d.reason, d.reviewer, d.result.decision, d.result.payable, JSON.stringify(d.result)],
    );
  }
}
