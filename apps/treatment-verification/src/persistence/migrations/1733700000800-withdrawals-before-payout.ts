import { MigrationInterface, QueryRunner } from 'typeorm';

const DECIDING = `'verified', 'rejected', 'cancelled', 'withdrawal-requested', 'withdrawal-refused'`;

/**
 * A verified confirmation its provider withdraws before payout (ADR 22): `withdrawal-requested` until payout
 * answers, then `withdrawn` (payout stopped the payment) or `withdrawal-refused` (payout had decided the claim). The
 * first two keep deciding the claim; `withdrawal_event_id` names the request (treatments.withdrawal-requested.v1),
 * which also tells a withdrawn confirmation whose verification was published (kept) from one withdrawn while
 * pending (nothing published: pruned like discarded and expired ones). A cancellation payout refused is remembered
 * (`cancelled_claims.refused_at`): the claim was paid, so its verified confirmation stays verified.
 */
export class WithdrawalsBeforePayout1733700000800 implements MigrationInterface {
  name = 'WithdrawalsBeforePayout1733700000800';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE confirmations ADD COLUMN withdrawal_event_id uuid`);
    await q.query(`ALTER TABLE cancelled_claims ADD COLUMN refused_at timestamptz`);
    await q.query(`ALTER TABLE confirmations DROP CONSTRAINT confirmations_outcome_check`);
    await q.query(
      `ALTER TABLE confirmations ADD CONSTRAINT confirmations_outcome_check
         CHECK (outcome IN ('pending', 'discarded', 'expired', 'superseded', 'withdrawn', ${DECIDING}))`,
    );
    await q.query(`DROP INDEX confirmations_deciding`);
    await q.query(
      `CREATE UNIQUE INDEX confirmations_deciding ON confirmations (claim_id) WHERE outcome IN (${DECIDING})`,
    );
    await q.query(`DROP INDEX confirmations_ended`);
    await q.query(
      `CREATE INDEX confirmations_ended ON confirmations (decided_at)
         WHERE outcome IN ('discarded', 'expired') OR (outcome = 'withdrawn' AND withdrawal_event_id IS NULL)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `UPDATE confirmations SET outcome = 'verified' WHERE outcome IN ('withdrawal-requested', 'withdrawal-refused')`,
    );
    await q.query(`DELETE FROM confirmations WHERE outcome = 'withdrawn' AND withdrawal_event_id IS NOT NULL`);
    await q.query(`DROP INDEX confirmations_ended`);
    await q.query(
      `CREATE INDEX confirmations_ended ON confirmations (decided_at) WHERE outcome IN ('discarded', 'expired')`,
    );
    await q.query(`DROP INDEX confirmations_deciding`);
    await q.query(
      `CREATE UNIQUE INDEX confirmations_deciding ON confirmations (claim_id)
         WHERE outcome IN ('verified', 'rejected', 'cancelled')`,
    );
    await q.query(`ALTER TABLE confirmations DROP CONSTRAINT confirmations_outcome_check`);
    await q.query(
      `ALTER TABLE confirmations ADD CONSTRAINT confirmations_outcome_check
         CHECK (outcome IN ('pending', 'verified', 'rejected', 'discarded', 'expired', 'cancelled', 'superseded',
                            'withdrawn'))`,
    );
    await q.query(`ALTER TABLE cancelled_claims DROP COLUMN refused_at`);
    await q.query(`ALTER TABLE confirmations DROP COLUMN withdrawal_event_id`);
  }
}
