import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The dispatcher looks for due payouts that are released or sent (a sent one is rechecked) many times a second. The
 * index it had covered released ones only, so every look read the whole payouts table: a cost that grew with every
 * payout ever made.
 */
export class PayoutsDueIndex1733300000300 implements MigrationInterface {
  name = 'PayoutsDueIndex1733300000300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX payouts_due_or_sent ON payouts (next_attempt_at) WHERE status IN ('released', 'sent')`);
    await q.query(`DROP INDEX payouts_due`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX payouts_due ON payouts (next_attempt_at) WHERE status = 'released'`);
    await q.query(`DROP INDEX payouts_due_or_sent`);
  }
}
