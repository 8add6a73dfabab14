import { MigrationInterface, QueryRunner } from 'typeorm';

/** Claims the insurer cancelled: adjudication skips them (unless it already ran). */
export class Cancellations1732400000002 implements MigrationInterface {
  name = 'Cancellations1732400000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE cancellations (
        claim_id     uuid PRIMARY KEY,
        event_id     uuid NOT NULL,
        cancelled_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE cancellations`);
  }
}
