import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Insurers' payout webhooks (one per insurer) with their signing secret encrypted at rest, and the `failed` end state
 * of a payout the rail refused on every allowed attempt. Retry state (attempts, next_attempt_at, last_error) already
 * lives on the payout row, so a restart resumes where the last process stopped.
 */
export class PayoutEndpoints1732500000100 implements MigrationInterface {
  name = 'PayoutEndpoints1732500000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE payout_endpoints (
        insurer_id        text PRIMARY KEY,
        url               text NOT NULL,
        secret_ciphertext bytea NOT NULL,
        secret_rotated_at timestamptz NOT NULL DEFAULT now(),
        created_at        timestamptz NOT NULL DEFAULT now(),
        updated_at        timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`ALTER TABLE payouts DROP CONSTRAINT payouts_status_check`);
    await q.query(`
      ALTER TABLE payouts
        ADD CONSTRAINT payouts_status_check CHECK (status IN ('released', 'sent', 'settled', 'failed')),
        ADD COLUMN failed_at timestamptz`);
    // The claim.submitted event as received, so a decision can be replayed from inputs the ledger commits to.
    await q.query(`ALTER TABLE claims ADD COLUMN submitted_event jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE claims DROP COLUMN submitted_event`);
    await q.query(`UPDATE payouts SET status = 'released' WHERE status = 'failed'`);
    await q.query(`ALTER TABLE payouts DROP CONSTRAINT payouts_status_check, DROP COLUMN failed_at`);
    await q.query(
      `ALTER TABLE payouts ADD CONSTRAINT payouts_status_check CHECK (status IN ('released', 'sent', 'settled'))`,
    );
    await q.query(`DROP TABLE payout_endpoints`);
  }
}
