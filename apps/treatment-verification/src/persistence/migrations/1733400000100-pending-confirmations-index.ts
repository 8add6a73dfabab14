import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Pending confirmations are bounded per provider and expire: both read them by provider and age. Only pending rows
 * are in the index, so it stays as small as the backlog of confirmations waiting for their claims.
 */
export class PendingConfirmationsIndex1733400000100 implements MigrationInterface {
  name = 'PendingConfirmationsIndex1733400000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX confirmations_pending ON confirmations (provider_id, created_at) WHERE outcome = 'pending'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX confirmations_pending`);
  }
}
