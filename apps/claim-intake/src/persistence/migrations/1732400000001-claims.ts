import { MigrationInterface, QueryRunner } from 'typeorm';

export class Claims1732400000001 implements MigrationInterface {
  name = 'Claims1732400000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE claims (
        id                uuid PRIMARY KEY,
        insurer_id        text NOT NULL,
        provider_id       text NOT NULL,
        patient_pseudonym text NOT NULL,
        coverage          text NOT NULL,
        status            text NOT NULL,
        currency          char(3) NOT NULL,
        total             numeric(17,2) NOT NULL,
        payable           numeric(17,2),
        paid              numeric(17,2),
        resource          jsonb NOT NULL,
        submitted_at      timestamptz NOT NULL,
        updated_at        timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX claims_insurer_submitted ON claims (insurer_id, submitted_at DESC)`);
    // The timeline: every event about a claim, and where the ledger recorded it. Either half may arrive first
    // (different topics), so both are upserts into one row.
    await q.query(`
      CREATE TABLE claim_events (
        event_id     uuid PRIMARY KEY,
        claim_id     uuid NOT NULL REFERENCES claims(id),
        type         text NOT NULL,
        time         timestamptz,
        envelope     jsonb,
        ledger_index bigint,
        leaf_hash    text,
        tree_size    bigint
      )`);
    await q.query(`CREATE INDEX claim_events_claim ON claim_events (claim_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE claim_events`);
    await q.query(`DROP TABLE claims`);
  }
}
