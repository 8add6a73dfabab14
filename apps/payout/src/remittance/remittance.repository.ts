import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Adjudication } from '../engine/adjudicate';

export interface RemittanceRow {
  insurerId: string;
  providerId: string;
  patientPseudonym: string | null;
  /** The focal Coverage's id as the claim named it. */
  coverage: string | null;
  /** The claim's kind as claims.submitted.v1 gave it (null for events from before it did). */
  claimType: string | null;
  result: Adjudication;
  decidedAt: Date;
  paidAmount: string | null;
  paidAt: Date | null;
}

/** SQL of remittance: one read across a claim's decision, its review and its payout. */
@Injectable()
export class RemittanceRepository {
  /** What the remittance of a decided (or pended) claim is built from; the reviewer's result wins over the engine's. */
  async remittance(em: EntityManager, claimId: string): Promise<RemittanceRow | undefined> {
    const rows: RemittanceRow[] = await em.query(
      `SELECT c.insurer_id AS "insurerId", c.provider_id AS "providerId", c.patient_pseudonym AS "patientPseudonym",
              c.coverage, c.submitted_event->'data'->>'claimType' AS "claimType",
              coalesce(r.result, a.result) AS result, coalesce(r.decided_at, a.created_at) AS "decidedAt",
              p.amount::text AS "paidAmount", p.released_at AS "paidAt"
         FROM adjudications a
         JOIN claims c ON c.claim_id = a.claim_id
         LEFT JOIN review_decisions r ON r.claim_id = a.claim_id
         LEFT JOIN payouts p ON p.claim_id = a.claim_id
        WHERE a.claim_id = $1`,
      [claimId],
    );
    return rows[0];
  }
}
