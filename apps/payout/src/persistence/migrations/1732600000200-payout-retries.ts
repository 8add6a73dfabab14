import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ops' retries of failed payouts: who put which payout back into the retry schedule, why, and what the failure it
 * replaced looked like (the payout row itself is reset, so this is where that history stays). The index serves
 * `GET /v1/ops/payouts?status=`, newest first.
 */
export class PayoutRetries1732600000200 implements MigrationInterface {
  name = 'PayoutRetries1732600000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE payout_retries (
        id                uuid PRIMARY KEY,
        payout_id         uuid NOT NULL REFERENCES payouts(id),
        retried_by        text NOT NULL,
        reason            text NOT NULL,
        previous_attempts int NOT NULL,
        previous_error    text,
        failed_at         timestamptz,
        retried_at        timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX payout_retries_payout ON payout_retries (payout_id)`);
    await q.query(`CREATE INDEX payouts_status_id ON payouts (status, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX payouts_status_id`);
    await q.query(`DROP TABLE payout_retries`);
  }
}
