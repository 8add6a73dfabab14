import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each salted (v2) leaf's secret salt, beside its event (ADR 16): the public read API never selects it; the anchor
 * notice (`ledger.anchored.v1`, on Kafka) carries it to the services that hand receipts to the claim's parties.
 * Null for the v1 (unsalted) leaves written before.
 */
export class LeafSalts1733600000000 implements MigrationInterface {
  name = 'LeafSalts1733600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE ledger_leaves ADD COLUMN data_salt bytea`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE ledger_leaves DROP COLUMN data_salt`);
  }
}
