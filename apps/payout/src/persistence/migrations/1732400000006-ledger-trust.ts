import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What payout checks the ledger with: each anchor's root and inclusion proof, every checkpoint it has seen (one
 * root per tree size, or the log forked), and the circuit breaker that stops payment when a check fails.
 */
export class LedgerTrust1732400000006 implements MigrationInterface {
  name = 'LedgerTrust1732400000006';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE verification_anchors ADD COLUMN root_hash text, ADD COLUMN inclusion_proof jsonb`);
    await q.query(`
      CREATE TABLE ledger_checkpoints_seen (
        tree_size bigint PRIMARY KEY,
        root_hash text NOT NULL,
        seen_at   timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE ledger_circuit (
        id         smallint PRIMARY KEY CHECK (id = 1),
        open       boolean NOT NULL,
        reason     text,
        changed_by text,
        changed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`INSERT INTO ledger_circuit (id, open) VALUES (1, false)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ledger_circuit`);
    await q.query(`DROP TABLE ledger_checkpoints_seen`);
    await q.query(`ALTER TABLE verification_anchors DROP COLUMN root_hash, DROP COLUMN inclusion_proof`);
  }
}
