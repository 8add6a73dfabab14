import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Payouts go through a payment rail after they are released: `released` → `sent` (the rail accepted the
 * instruction) → `settled` (the rail reported the money moved). Failed submissions are retried with backoff.
 */
export class PaymentRail1732400000005 implements MigrationInterface {
  name = 'PaymentRail1732400000005';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE payouts
        ADD COLUMN status          text NOT NULL DEFAULT 'released' CHECK (status IN ('released', 'sent', 'settled')),
        ADD COLUMN rail            text,
        ADD COLUMN rail_reference  text,
        ADD COLUMN attempts        int NOT NULL DEFAULT 0,
        ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
        ADD COLUMN last_error      text,
        ADD COLUMN settled_at      timestamptz`);
    await q.query(`CREATE INDEX payouts_due ON payouts (next_attempt_at) WHERE status = 'released'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX payouts_due`);
    await q.query(`
      ALTER TABLE payouts DROP COLUMN status, DROP COLUMN rail, DROP COLUMN rail_reference, DROP COLUMN attempts,
        DROP COLUMN next_attempt_at, DROP COLUMN last_error, DROP COLUMN settled_at`);
  }
}
