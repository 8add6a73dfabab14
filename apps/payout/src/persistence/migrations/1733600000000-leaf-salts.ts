import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The secret salt of a salted (v2) verification leaf (ADR 16), from `ledger.anchored.v1`: without it payout cannot
 * recompute the leaf it checks the anchor against. Null for a v1 (unsalted) leaf.
 */
export class LeafSalts1733600000000 implements MigrationInterface {
  name = 'LeafSalts1733600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE verification_anchors ADD COLUMN data_salt text`);
    // The salts of the other leaves `npm run replay` proves (a claim's claim.submitted and claim.adjudicated).
    await q.query(`
      CREATE TABLE event_salts (
        event_id  uuid PRIMARY KEY,
        data_salt text NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE event_salts`);
    await q.query(`ALTER TABLE verification_anchors DROP COLUMN data_salt`);
  }
}
