import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each known claim keeps the `correlationid` of its claims.submitted event (ADR 20), so a treatment event decided
 * later, by a provider's request, carries the claim's correlation on. NULL for claims received before.
 */
export class ClaimCorrelation1733600002100 implements MigrationInterface {
  name = 'ClaimCorrelation1733600002100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE claims ADD COLUMN correlation_id text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE claims DROP COLUMN correlation_id`);
  }
}
