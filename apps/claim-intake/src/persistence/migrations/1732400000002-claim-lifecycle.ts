import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The full lifecycle (verification-rejected, decision, cancellation), the claim lines duplicate detection searches,
 * and the list endpoint's keyset index.
 */
export class ClaimLifecycle1732400000002 implements MigrationInterface {
  name = 'ClaimLifecycle1732400000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE claims SET status = 'verification-rejected' WHERE status = 'rejected'`);
    await q.query(`ALTER TABLE claims ADD COLUMN decision text`);
    await q.query(`ALTER TABLE claims ADD COLUMN cancel_reason text`);
    await q.query(`ALTER TABLE claims ADD COLUMN resubmission_of uuid REFERENCES claims(id)`);
    await q.query(`DROP INDEX claims_insurer_submitted`);
    await q.query(`CREATE INDEX claims_insurer_keyset ON claims (insurer_id, submitted_at DESC, id DESC)`);
    await q.query(`
      CREATE TABLE claim_lines (
        claim_id          uuid NOT NULL REFERENCES claims(id),
        sequence          int NOT NULL,
        patient_pseudonym text NOT NULL,
        provider_id       text NOT NULL,
        system            text NOT NULL,
        code              text NOT NULL,
        serviced_date     date NOT NULL,
        PRIMARY KEY (claim_id, sequence)
      )`);
    await q.query(
      `CREATE INDEX claim_lines_duplicate ON claim_lines (patient_pseudonym, provider_id, code, serviced_date, system)`,
    );
    await q.query(`
      INSERT INTO claim_lines (claim_id, sequence, patient_pseudonym, provider_id, system, code, serviced_date)
      SELECT c.id, (i->>'sequence')::int, c.patient_pseudonym, c.provider_id,
             i->'productOrService'->'coding'->0->>'system', i->'productOrService'->'coding'->0->>'code',
             (i->>'servicedDate')::date
        FROM claims c, jsonb_array_elements(c.resource->'item') i`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE claim_lines`);
    await q.query(`DROP INDEX claims_insurer_keyset`);
    await q.query(`CREATE INDEX claims_insurer_submitted ON claims (insurer_id, submitted_at DESC)`);
    await q.query(`ALTER TABLE claims DROP COLUMN resubmission_of`);
    await q.query(`ALTER TABLE claims DROP COLUMN cancel_reason`);
    await q.query(`ALTER TABLE claims DROP COLUMN decision`);
    await q.query(`UPDATE claims SET status = 'rejected' WHERE status = 'verification-rejected'`);
  }
}
