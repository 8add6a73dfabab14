import { MigrationInterface, QueryRunner } from 'typeorm';

/** What a receipt needs per event beyond its ledger position: the inclusion proof and the signed checkpoint. */
export class Receipts1732400000003 implements MigrationInterface {
  name = 'Receipts1732400000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE claim_events ADD COLUMN inclusion_proof jsonb`);
    await q.query(`ALTER TABLE claim_events ADD COLUMN checkpoint text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE claim_events DROP COLUMN checkpoint`);
    await q.query(`ALTER TABLE claim_events DROP COLUMN inclusion_proof`);
  }
}
