import { MigrationInterface, QueryRunner } from 'typeorm';

export class LedgerLookupsAndAnchors1732400000002 implements MigrationInterface {
  name = 'LedgerLookupsAndAnchors1732400000002';

  async up(q: QueryRunner): Promise<void> {
    // Inclusion proofs by leaf hash (`?leafHash=`) look the index up here.
    await q.query(`CREATE INDEX ledger_leaves_leaf_hash_idx ON ledger_leaves (leaf_hash)`);
    // Per anchor sink, the largest checkpoint it has published: delivery resumes from here after a failure,
    // a restart or a leader change.
    await q.query(`
      CREATE TABLE ledger_anchor_sinks (
        sink           text PRIMARY KEY,
        published_size bigint NOT NULL,
        updated_at     timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ledger_anchor_sinks`);
    await q.query(`DROP INDEX ledger_leaves_leaf_hash_idx`);
  }
}
