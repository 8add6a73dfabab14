import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each leaf keeps its event's `correlationid` (ADR 20), so the ledger.anchored notice written at the checkpoint
 * carries the claim's correlation on. Not part of the leaf's commitment: it is delivery metadata, like the envelope's
 * other extension attributes. NULL for leaves appended before.
 */
export class LeafCorrelation1733600002200 implements MigrationInterface {
  name = 'LeafCorrelation1733600002200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE ledger_leaves ADD COLUMN correlation_id text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE ledger_leaves DROP COLUMN correlation_id`);
  }
}
