import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Claims payout could not decide for a reason of their own (ADR 23): an anchor that does not prove itself, no
 * contract in force, a contract that does not hash to its id. One `ledger.anchored.v2` notice covers many claims,
 * so such a claim is held here (and alerted) instead of dead-lettering the notice; the notice's other claims proceed.
 */
export class HeldClaims1733700000500 implements MigrationInterface {
  name = 'HeldClaims1733700000500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE held_claims (
        claim_id  uuid PRIMARY KEY,
        reason    text NOT NULL,
        held_at   timestamptz NOT NULL DEFAULT now(),
        attempts  integer NOT NULL DEFAULT 1
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE held_claims`);
  }
}
