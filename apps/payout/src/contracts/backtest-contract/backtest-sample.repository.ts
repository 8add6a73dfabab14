import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Adjudication, ClaimToAdjudicate } from '../../engine/adjudicate';
import { PolicyTerms } from '../../engine/plan-year';

/** A decided claim as a backtest replays it: its inputs, the policy and accumulators it was decided on, the outcome. */
export interface DecidedClaim {
  claimId: string;
  claim: ClaimToAdjudicate;
  policy: PolicyTerms | null;
  accumulatorsBefore: Adjudication['accumulators']['before'];
  decided: { contractId: string; decision: string; payable: string };
}

/** SQL of the backtest: the insurer's latest decided claims (a reviewer's decision wins over the engine's). */
@Injectable()
export class BacktestSampleRepository {
  async latestDecided(em: EntityManager, insurerId: string, limit: number): Promise<DecidedClaim[]> {
    const rows: {
      claimId: string;
      providerId: string;
      currency: string;
      patientPseudonym: string | null;
      items: ClaimToAdjudicate['items'];
      contractId: string;
      decision: string;
      payable: string;
      result: Adjudication;
      unattested: boolean;
      policyId: string | null;
      contractOfPolicy: string | null;
      memberPseudonym: string | null;
      start: string | null;
      end: string | null;
    }[] = await em.query(
      `SELECT a.claim_id::text AS "claimId", c.provider_id AS "providerId", c.currency,
              c.patient_pseudonym AS "patientPseudonym", c.items, a.contract_id AS "contractId",
              coalesce(r.outcome, a.decision) AS decision, coalesce(r.payable, a.payable)::text AS payable,
              coalesce(r.result, a.result) AS result,
              (v.claim_id IS NOT NULL AND NOT v.envelope->'data' ? 'attestationHash') AS unattested,
              p.id::text AS "policyId", p.contract_id AS "contractOfPolicy",
              p.member_pseudonym AS "memberPseudonym", p.period_start::text AS start, p.period_end::text AS "end"
         FROM adjudications a
         JOIN claims c ON c.claim_id = a.claim_id
         LEFT JOIN review_decisions r ON r.claim_id = a.claim_id
         LEFT JOIN verifications v ON v.claim_id = a.claim_id
         LEFT JOIN policies p ON p.id = a.policy_id
        WHERE c.insurer_id = $1 AND coalesce(r.outcome, a.decision) <> 'pended'
        ORDER BY a.created_at DESC, a.claim_id
        LIMIT $2`,
      [insurerId, limit],
    );
    return rows.map((r) => ({
      claimId: r.claimId,
      claim: {
        providerId: r.providerId,
        currency: r.currency,
        patientPseudonym: r.patientPseudonym,
        items: r.items,
        // The lines its verification left unverified stay denied under any contract; one that carried no signed
        // attestation pends under a contract that requires one (ADR 26).
        ...(r.result.unverified ? { unverified: r.result.unverified } : {}),
        ...(r.unattested ? { unattested: true } : {}),
      },
      policy:
        r.policyId && r.start && r.end
          ? {
              id: r.policyId,
              contractId: r.contractOfPolicy!,
              memberPseudonym: r.memberPseudonym,
              start: r.start,
              end: r.end,
            }
          : null,
      accumulatorsBefore: r.result.accumulators?.before ?? {},
      decided: { contractId: r.contractId, decision: r.decision, payable: r.payable },
    }));
  }
}
