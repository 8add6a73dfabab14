import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The time of the latest payment event applied to a claim (payouts.failed, .retried, .settled), so an older one
 * consumed late (they arrive on different topics) cannot put a settled claim back to `payment-failed`.
 */
export class PaymentState1732600000100 implements MigrationInterface {
  name = 'PaymentState1732600000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE claims ADD COLUMN payment_event_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE claims SET status = 'paid' WHERE status = 'payment-failed'`);
    await q.query(`ALTER TABLE claims DROP COLUMN payment_event_at`);
  }
}
