import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A reviewer's decision on a pended claim: at most one per claim (the primary key), with the final adjudication
 * it produced. The pended adjudication row stays as the engine left it.
 */
export class Reviews1732400000004 implements MigrationInterface {
  name = 'Reviews1732400000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE review_decisions (
        claim_id   uuid PRIMARY KEY REFERENCES adjudications(claim_id),
        decision   text NOT NULL CHECK (decision IN ('approve', 'deny')),
        reason     text NOT NULL,
        reviewer   text NOT NULL,
        outcome    text NOT NULL,
        payable    numeric(17,2) NOT NULL,
        result     jsonb NOT NULL,
        decided_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX adjudications_pended ON adjudications (created_at) WHERE decision = 'pended'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX adjudications_pended`);
    await q.query(`DROP TABLE review_decisions`);
  }
}
