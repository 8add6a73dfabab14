import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `paid` now means settled (issue 14): a claim whose payout was released but never settled was shown `paid` before
 * the money moved, and is `payment-pending` from now on, as a newly released one is.
 */
export class PaymentPending1733700000000 implements MigrationInterface {
  name = 'PaymentPending1733700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE claims c SET status = 'payment-pending'
       WHERE c.status = 'paid'
         AND NOT EXISTS (SELECT 1 FROM claim_events e WHERE e.claim_id = c.id AND e.type = 'payout.settled')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE claims SET status = 'paid' WHERE status = 'payment-pending'`);
  }
}
