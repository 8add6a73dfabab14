import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Verifications their provider withdrew before payout decided the claim (ADR 22), by the confirmation that made
 * them: payout never pays on one of these, even one that arrives after its withdrawal (the topics have no order between them), and the claim's
 * `verifications` row is freed for the corrected confirmation's.
 */
export class VerificationWithdrawals1733700000700 implements MigrationInterface {
  name = 'VerificationWithdrawals1733700000700';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE verification_withdrawals (
        confirmation_id     uuid PRIMARY KEY,
        claim_id            uuid NOT NULL,
        withdrawal_event_id uuid NOT NULL,
        withdrawn_at        timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE verification_withdrawals`);
  }
}
