import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A payout that becomes due now (released by a decision, put back by ops, woken by a new webhook) NOTIFYs the
 * dispatchers on `claimchain_payouts_due` when its transaction commits, so they submit it at once instead of
 * finding it on a poll (issue 11). Postgres sends one notification per channel and payload per transaction, however
 * many rows; a payout made due later (a lease, a backoff, a recheck) notifies nothing: the dispatcher sleeps until
 * the earliest of those (PayoutDispatcherService).
 */
export class PayoutsDueNotify1733800000100 implements MigrationInterface {
  name = 'PayoutsDueNotify1733800000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION notify_payouts_due() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('claimchain_payouts_due', '');
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER payouts_due_now AFTER INSERT OR UPDATE OF status, next_attempt_at ON payouts
        FOR EACH ROW WHEN (NEW.status IN ('awaiting-rail', 'released', 'sent') AND NEW.next_attempt_at <= now())
        EXECUTE FUNCTION notify_payouts_due()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER payouts_due_now ON payouts`);
    await q.query(`DROP FUNCTION notify_payouts_due()`);
  }
}
