import { MigrationInterface, QueryRunner } from 'typeorm';

export class Confirmations1732400000001 implements MigrationInterface {
  name = 'Confirmations1732400000001';

  async up(q: QueryRunner): Promise<void> {
    // What this service knows of each claim: the lines a provider must confirm.
    await q.query(`
      CREATE TABLE claims (
        claim_id     uuid PRIMARY KEY,
        insurer_id   text NOT NULL,
        provider_id  text NOT NULL,
        items        jsonb NOT NULL,
        received_at  timestamptz NOT NULL DEFAULT now()
      )`);
    // One confirmation outcome per claim: the unique constraint is what makes a second POST a conflict.
    await q.query(`
      CREATE TABLE confirmations (
        id           uuid PRIMARY KEY,
        claim_id     uuid NOT NULL UNIQUE REFERENCES claims(claim_id),
        outcome      text NOT NULL CHECK (outcome IN ('verified', 'rejected')),
        performed    jsonb NOT NULL,
        reasons      jsonb NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE confirmations`);
    await q.query(`DROP TABLE claims`);
  }
}
