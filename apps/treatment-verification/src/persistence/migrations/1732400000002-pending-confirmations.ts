import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A provider may confirm before claim-intake's event has reached this service: such a confirmation is stored as
 * `pending` (no claim row to reference yet) and decided when the claim arrives.
 */
export class PendingConfirmations1732400000002 implements MigrationInterface {
  name = 'PendingConfirmations1732400000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE confirmations DROP CONSTRAINT confirmations_claim_id_fkey`);
    await q.query(`ALTER TABLE confirmations DROP CONSTRAINT confirmations_outcome_check`);
    await q.query(
      `ALTER TABLE confirmations ADD CONSTRAINT confirmations_outcome_check
         CHECK (outcome IN ('pending', 'verified', 'rejected'))`,
    );
    await q.query(`ALTER TABLE confirmations ADD COLUMN decided_at timestamptz`);
    await q.query(`UPDATE confirmations SET decided_at = created_at`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM confirmations WHERE outcome = 'pending'`);
    await q.query(`ALTER TABLE confirmations DROP COLUMN decided_at`);
    await q.query(`ALTER TABLE confirmations DROP CONSTRAINT confirmations_outcome_check`);
    await q.query(
      `ALTER TABLE confirmations ADD CONSTRAINT confirmations_outcome_check CHECK (outcome IN ('verified', 'rejected'))`,
    );
    await q.query(
      `ALTER TABLE confirmations ADD CONSTRAINT confirmations_claim_id_fkey
         FOREIGN KEY (claim_id) REFERENCES claims(claim_id)`,
    );
  }
}
