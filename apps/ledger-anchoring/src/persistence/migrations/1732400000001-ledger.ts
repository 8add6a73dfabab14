import { MigrationInterface, QueryRunner } from 'typeorm';

export class Ledger1732400000001 implements MigrationInterface {
  name = 'Ledger1732400000001';

  async up(q: QueryRunner): Promise<void> {
    // Leaf i of the RFC 9162 log: the commitment bytes (JCS, no PHI) and their leaf hash.
    await q.query(`
      CREATE TABLE ledger_leaves (
        leaf_index  bigint PRIMARY KEY,
        event_id    uuid NOT NULL UNIQUE,
        event_type  text NOT NULL,
        subject     text NOT NULL,
        leaf        bytea NOT NULL,
        leaf_hash   bytea NOT NULL,
        appended_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Every perfect subtree's hash (level L, index i covers leaves [i*2^L, (i+1)*2^L)): proofs and roots read
    // O(log n) of these instead of rereading leaves.
    await q.query(`
      CREATE TABLE ledger_nodes (
        level smallint NOT NULL,
        idx   bigint NOT NULL,
        hash  bytea NOT NULL,
        PRIMARY KEY (level, idx)
      )`);
    await q.query(`
      CREATE TABLE ledger_checkpoints (
        tree_size  bigint PRIMARY KEY,
        root_hash  bytea NOT NULL,
        note       text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ledger_checkpoints`);
    await q.query(`DROP TABLE ledger_nodes`);
    await q.query(`DROP TABLE ledger_leaves`);
  }
}
