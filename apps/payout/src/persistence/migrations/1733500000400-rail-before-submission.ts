import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A payout's rail and attempt are committed before the rail is called (ADR 11): `attempt_started_at` says when the
 * attempt under way began, so a crash between the rail's answer and the commit of its outcome leaves the payout on
 * its rail and retried there. `awaiting-rail` is a payout no rail is configured for (no webhook, no bank): it waits,
 * visible to ops, and is never settled by anything but a rail.
 */
export class RailBeforeSubmission1733500000400 implements MigrationInterface {
  name = 'RailBeforeSubmission1733500000400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE payouts
        ADD COLUMN attempt_started_at timestamptz,
        DROP CONSTRAINT payouts_status_check,
        ADD CONSTRAINT payouts_status_check
          CHECK (status IN ('awaiting-rail', 'released', 'sent', 'settled', 'failed'))`);
    await q.query(
      `CREATE INDEX payouts_due_any ON payouts (next_attempt_at) WHERE status IN ('awaiting-rail', 'released', 'sent')`,
    );
    await q.query(`DROP INDEX payouts_due_or_sent`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX payouts_due_or_sent ON payouts (next_attempt_at) WHERE status IN ('released', 'sent')`);
    await q.query(`DROP INDEX payouts_due_any`);
    await q.query(`UPDATE payouts SET status = 'released' WHERE status = 'awaiting-rail'`);
    await q.query(`
      ALTER TABLE payouts
        DROP COLUMN attempt_started_at,
        DROP CONSTRAINT payouts_status_check,
        ADD CONSTRAINT payouts_status_check CHECK (status IN ('released', 'sent', 'settled', 'failed'))`);
  }
}
