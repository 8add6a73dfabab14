import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The secret salt of each salted (v2) ledger leaf of a claim's events (ADR 16), from `ledger.anchored.v1`: the claim
 * receipt hands it to the insurer so the datahash can be recomputed; the public ledger never serves it.
 */
export class LeafSalts1733600000000 implements MigrationInterface {
  name = 'LeafSalts1733600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE claim_events ADD COLUMN data_salt text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE claim_events DROP COLUMN data_salt`);
  }
}
