import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Pended decisions set aside because their provider withdrew the verification they were made on (ADR 25), one row
 * per withdrawal: the decision as it stood in `adjudications`, which it leaves so that the correction's verification
 * is decided afresh. Its `claims.pended.v1` stays on the ledger; the withdrawal's answer records the setting aside.
 */
export class SetAsideAdjudications1733800000200 implements MigrationInterface {
  name = 'SetAsideAdjudications1733800000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE set_aside_adjudications (
        withdrawal_event_id uuid PRIMARY KEY,
        claim_id            uuid NOT NULL,
        contract_id         char(64) NOT NULL,
        policy_id           uuid,
        decision            text NOT NULL,
        payable             numeric(17,2) NOT NULL,
        result              jsonb NOT NULL,
        created_at          timestamptz NOT NULL,
        set_aside_at        timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX set_aside_adjudications_claim ON set_aside_adjudications (claim_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE set_aside_adjudications`);
  }
}
