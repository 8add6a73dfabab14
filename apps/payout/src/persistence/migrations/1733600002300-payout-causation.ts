import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each payout keeps the id of its payouts.released event and its claim's `correlationid` (ADR 20): the settlement or
 * failure announced later, by the rail's report or the dispatcher, names the release as its cause and carries the
 * claim's correlation on. NULL for payouts released before.
 */
export class PayoutCausation1733600002300 implements MigrationInterface {
  name = 'PayoutCausation1733600002300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE payouts ADD COLUMN released_event_id uuid, ADD COLUMN correlation_id text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE payouts DROP COLUMN released_event_id, DROP COLUMN correlation_id`);
  }
}
