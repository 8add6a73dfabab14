import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Only the claim's own provider's confirmation can count (issue 14 item 3, ADR 12). Before, a claim id had one
 * confirmation row whoever posted it, so a provider that posted first for another's claim blocked the real one.
 * Now each provider may hold one pending confirmation per claim id; of the rows that decide a claim (verified,
 * rejected, or cancelled with it) there is at most one. The rest are kept with the outcome that ended them
 * (discarded: not the claim's provider; expired: the claim never arrived), for their provider to read.
 */
export class ConfirmationsPerProvider1733500000000 implements MigrationInterface {
  name = 'ConfirmationsPerProvider1733500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE confirmations DROP CONSTRAINT confirmations_claim_id_key`);
    await q.query(`ALTER TABLE confirmations DROP CONSTRAINT confirmations_outcome_check`);
    await q.query(
      `ALTER TABLE confirmations ADD CONSTRAINT confirmations_outcome_check
         CHECK (outcome IN ('pending', 'verified', 'rejected', 'discarded', 'expired', 'cancelled'))`,
    );
    await q.query(`CREATE INDEX confirmations_claim ON confirmations (claim_id)`);
    // What makes a second confirmation of a claim a conflict: only its own provider's row ever reaches these.
    await q.query(
      `CREATE UNIQUE INDEX confirmations_deciding ON confirmations (claim_id)
         WHERE outcome IN ('verified', 'rejected', 'cancelled')`,
    );
    await q.query(
      `CREATE UNIQUE INDEX confirmations_pending_per_provider ON confirmations (claim_id, provider_id)
         WHERE outcome = 'pending'`,
    );
    // The expiry sweep reads pending rows by age; the worklist reads a provider's rows newest first (ids are v7).
    await q.query(`CREATE INDEX confirmations_pending_age ON confirmations (created_at) WHERE outcome = 'pending'`);
    await q.query(`CREATE INDEX confirmations_by_provider ON confirmations (provider_id, id)`);
    // Discarded and expired rows stay readable for a while, then the pruner removes them.
    await q.query(
      `CREATE INDEX confirmations_ended ON confirmations (decided_at) WHERE outcome IN ('discarded', 'expired')`,
    );
    await q.query(`CREATE INDEX claims_by_provider ON claims (provider_id, claim_id)`);
    // A cancellation may be consumed before its claim (another topic): remembered until the claim arrives.
    await q.query(`
      CREATE TABLE cancelled_claims (
        claim_id      uuid PRIMARY KEY,
        cancelled_at  timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE cancelled_claims`);
    await q.query(`DROP INDEX claims_by_provider`);
    await q.query(`DROP INDEX confirmations_ended`);
    await q.query(`DROP INDEX confirmations_by_provider`);
    await q.query(`DROP INDEX confirmations_pending_age`);
    await q.query(`DROP INDEX confirmations_pending_per_provider`);
    await q.query(`DROP INDEX confirmations_deciding`);
    await q.query(`DROP INDEX confirmations_claim`);
    // The old schema held one row per claim: keep its decision, else its oldest pending row.
    await q.query(`DELETE FROM confirmations WHERE outcome IN ('discarded', 'expired', 'cancelled')`);
    await q.query(
      `DELETE FROM confirmations f WHERE f.outcome = 'pending' AND EXISTS (
         SELECT 1 FROM confirmations g WHERE g.claim_id = f.claim_id AND (g.outcome <> 'pending' OR g.id < f.id))`,
    );
    await q.query(`ALTER TABLE confirmations DROP CONSTRAINT confirmations_outcome_check`);
    await q.query(
      `ALTER TABLE confirmations ADD CONSTRAINT confirmations_outcome_check
         CHECK (outcome IN ('pending', 'verified', 'rejected'))`,
    );
    await q.query(`ALTER TABLE confirmations ADD CONSTRAINT confirmations_claim_id_key UNIQUE (claim_id)`);
  }
}
