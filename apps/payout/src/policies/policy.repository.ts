import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Accumulators } from '../engine/adjudicate';
import { PolicyTerms } from '../engine/plan-year';

export interface PolicyRow extends PolicyTerms {
  insurerId: string;
  coverageId: string;
  enrolledAt: Date;
}

export interface AccumulatorRow {
  planYear: string;
  deductibleMet: string;
  benefitPaid: string;
}

const POLICY_COLUMNS = `p.id, p.insurer_id AS "insurerId", p.coverage_id AS "coverageId", p.contract_id AS "contractId",
  p.member_pseudonym AS "memberPseudonym", to_char(p.period_start, 'YYYY-MM-DD') AS "start",
  to_char(p.period_end, 'YYYY-MM-DD') AS "end", p.enrolled_at AS "enrolledAt"`;

/** How policiesForCoverages keys its answer. */
export function coverageKey(insurerId: string, coverageId: string): string {
  return `${insurerId}\n${coverageId}`;
}

/** SQL on `policies` and `policy_accumulators`: enrolled coverage periods and what each plan year has used. */
@Injectable()
export class PolicyRepository {
  /** Serialises enrolments on one coverage, so two overlapping policies cannot both be created. */
  async lockCoverage(em: EntityManager, insurerId: string, coverageId: string): Promise<void> {
    await em.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`coverage:${insurerId}\n${coverageId}`]);
  }

  async overlappingPolicy(
    em: EntityManager,
    p: { insurerId: string; coverageId: string; start: string; end: string },
  ): Promise<string | undefined> {
    const rows: { id: string }[] = await em.query(
      `SELECT id FROM policies WHERE insurer_id = $1 AND coverage_id = $2 AND period_start <= $4 AND period_end >= $3
        LIMIT 1`,
      [p.insurerId, p.coverageId, p.start, p.end],
    );
    return rows[0]?.id;
  }

  async insertPolicy(em: EntityManager, p: Omit<PolicyRow, 'enrolledAt'>): Promise<void> {
    await em.query(
      `INSERT INTO policies (id, insurer_id, coverage_id, contract_id, member_pseudonym, period_start, period_end)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [p.id, p.insurerId, p.coverageId, p.contractId, p.memberPseudonym, p.start, p.end],
    );
  }

  async findPolicy(em: EntityManager, id: string): Promise<PolicyRow | undefined> {
    const rows: PolicyRow[] = await em.query(`SELECT ${POLICY_COLUMNS} FROM policies p WHERE p.id = $1`, [id]);
    return rows[0];
  }

  /** The policies enrolled for each of these coverages, oldest period first, in one statement. */
  async policiesForCoverages(
    em: EntityManager,
    coverages: readonly { insurerId: string; coverageId: string }[],
  ): Promise<Map<string, PolicyRow[]>> {
    const found = new Map<string, PolicyRow[]>();
    const distinct = [...new Map(coverages.map((c) => [coverageKey(c.insurerId, c.coverageId), c])).values()];
    if (distinct.length === 0) return found;
    const rows: PolicyRow[] = await em.query(
      `SELECT ${POLICY_COLUMNS} FROM policies p
         JOIN unnest($1::text[], $2::text[]) AS k(insurer_id, coverage_id)
           ON p.insurer_id = k.insurer_id AND p.coverage_id = k.coverage_id
        ORDER BY p.period_start`,
      [distinct.map((c) => c.insurerId), distinct.map((c) => c.coverageId)],
    );
    for (const row of rows) {
      const key = coverageKey(row.insurerId, row.coverageId);
      found.set(key, [...(found.get(key) ?? []), row]);
    }
    return found;
  }

  /**
   * Serialises adjudication per policy: the row lock is held until the transaction that updates the policy's
   * accumulators commits, so two claims never both spend what is left of a deductible or annual limit.
   */
  /** Locks these policies (held until commit), in id order so that two transactions never wait on each other. */
  async lockPolicies(em: EntityManager, policyIds: readonly string[]): Promise<void> {
    await em.query(`SELECT id FROM policies WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [policyIds]);
  }

  async accumulators(em: EntityManager, policyId: string): Promise<AccumulatorRow[]> {
    return (await this.accumulatorsOf(em, [policyId])).get(policyId) ?? [];
  }

  /** Each policy's accumulators by plan year (in order), in one read; a policy with none maps to nothing. */
  async accumulatorsOf(em: EntityManager, policyIds: readonly string[]): Promise<Map<string, AccumulatorRow[]>> {
    const rows: (AccumulatorRow & { policyId: string })[] = await em.query(
      `SELECT a.policy_id AS "policyId", to_char(a.plan_year_start, 'YYYY-MM-DD') AS "planYear",
              a.deductible_met::text AS "deductibleMet", a.benefit_paid::text AS "benefitPaid"
         FROM policy_accumulators a WHERE a.policy_id = ANY($1::uuid[]) ORDER BY a.policy_id, a.plan_year_start`,
      [policyIds],
    );
    const byPolicy = new Map<string, AccumulatorRow[]>();
    for (const { policyId, ...row } of rows) byPolicy.set(policyId, [...(byPolicy.get(policyId) ?? []), row]);
    return byPolicy;
  }

  /** Writes the plan years' new totals; call only under lockPolicies. */
  async saveAccumulators(em: EntityManager, policyId: string, accumulators: Accumulators): Promise<void> {
    await this.saveAccumulatorsOf(em, new Map([[policyId, accumulators]]));
  }

  /** saveAccumulators for many policies in one statement. */
  async saveAccumulatorsOf(em: EntityManager, byPolicy: ReadonlyMap<string, Accumulators>): Promise<void> {
    const rows = [...byPolicy].flatMap(([policyId, accumulators]) =>
      Object.entries(accumulators).map(([year, totals]) => ({ policyId, year, ...totals })),
    );
    if (rows.length === 0) return;
    await em.query(
      `INSERT INTO policy_accumulators (policy_id, plan_year_start, deductible_met, benefit_paid)
       SELECT * FROM unnest($1::uuid[], $2::date[], $3::numeric[], $4::numeric[])
       ON CONFLICT (policy_id, plan_year_start) DO UPDATE
         SET deductible_met = EXCLUDED.deductible_met, benefit_paid = EXCLUDED.benefit_paid, updated_at = now()`,
      [
        rows.map((r) => r.policyId),
        rows.map((r) => r.year),
        rows.map((r) => r.deductibleMet),
        rows.map((r) => r.benefitPaid),
      ],
    );
  }
}
