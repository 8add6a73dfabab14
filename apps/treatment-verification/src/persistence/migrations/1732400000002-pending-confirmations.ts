import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A provider may confirm before claim-intake's event has reached this service: such a confirmation is stored as
 * `pending` (no claim row to reference yet) and decided when the claim arrives, if the confirming provider is the
 * claim's provider.
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
    // Who confirmed: only the claim's own provider may decide it.
    await q.query(`ALTER TABLE confirmations ADD COLUMN provider_id text`);
    await q.query(`UPDATE confirmations f SET provider_id = c.provider_id FROM claims c WHERE c.claim_id = f.claim_id`);
    await q.query(`ALTER TABLE confirmations ALTER COLUMN provider_id SET NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM confirmations WHERE outcome = 'pending'`);
    await q.query(`ALTER TABLE confirmations DROP COLUMN provider_id`);
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
