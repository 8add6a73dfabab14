import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Policies (a member's coverage on a contract for a period), their per-plan-year accumulators, and what
 * adjudication v2 needs from a claim to find its policy (the FHIR Coverage id and the patient pseudonym).
 */
export class Policies1732400000003 implements MigrationInterface {
  name = 'Policies1732400000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE claims ADD COLUMN coverage text, ADD COLUMN patient_pseudonym text`);
    await q.query(`CREATE INDEX contracts_by_insurer ON contracts (insurer_id, published_at DESC)`);
    await q.query(`
      CREATE TABLE policies (
        id               uuid PRIMARY KEY,
        insurer_id       text NOT NULL,
        coverage_id      text NOT NULL,
        contract_id      char(64) NOT NULL REFERENCES contracts(id),
        member_pseudonym text,
        period_start     date NOT NULL,
        period_end       date NOT NULL,
        enrolled_at      timestamptz NOT NULL DEFAULT now(),
        CHECK (period_start <= period_end)
      )`);
    await q.query(`CREATE INDEX policies_by_coverage ON policies (insurer_id, coverage_id, period_start)`);
    // One row per policy and plan year; adjudication updates it under the policy's row lock.
    await q.query(`
      CREATE TABLE policy_accumulators (
        policy_id       uuid NOT NULL REFERENCES policies(id),
        plan_year_start date NOT NULL,
        deductible_met  numeric(17,2) NOT NULL DEFAULT 0 CHECK (deductible_met >= 0),
        benefit_paid    numeric(17,2) NOT NULL DEFAULT 0 CHECK (benefit_paid >= 0),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (policy_id, plan_year_start)
      )`);
    await q.query(`ALTER TABLE adjudications ADD COLUMN policy_id uuid REFERENCES policies(id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE adjudications DROP COLUMN policy_id`);
    await q.query(`DROP TABLE policy_accumulators`);
    await q.query(`DROP TABLE policies`);
    await q.query(`DROP INDEX contracts_by_insurer`);
    await q.query(`ALTER TABLE claims DROP COLUMN coverage, DROP COLUMN patient_pseudonym`);
  }
}
