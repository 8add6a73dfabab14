import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Line-level matching and corrections (issue 15 items 3 and 4, ADR 19): each insurer's date tolerance (days either
 * side of a line's serviced date that still count as its date; 0 unless set); a rejected confirmation its provider
 * corrected is kept as `superseded`, and the correction names the one it `supersedes`; a pending confirmation its
 * provider withdrew is kept as `withdrawn`.
 */
export class LineMatchingAndCorrections1733600000100 implements MigrationInterface {
  name = 'LineMatchingAndCorrections1733600000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE attestation_policies ADD COLUMN date_tolerance_days int NOT NULL DEFAULT 0
         CHECK (date_tolerance_days BETWEEN 0 AND 30)`,
    );
    await q.query(`ALTER TABLE confirmations ADD COLUMN supersedes uuid`);
    await q.query(`ALTER TABLE confirmations DROP CONSTRAINT confirmations_outcome_check`);
    await q.query(
      `ALTER TABLE confirmations ADD CONSTRAINT confirmations_outcome_check
         CHECK (outcome IN ('pending', 'verified', 'rejected', 'discarded', 'expired', 'cancelled', 'superseded',
                            'withdrawn'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM confirmations WHERE outcome IN ('superseded', 'withdrawn')`);
    await q.query(`ALTER TABLE confirmations DROP CONSTRAINT confirmations_outcome_check`);
    await q.query(
      `ALTER TABLE confirmations ADD CONSTRAINT confirmations_outcome_check
         CHECK (outcome IN ('pending', 'verified', 'rejected', 'discarded', 'expired', 'cancelled'))`,
    );
    await q.query(`ALTER TABLE confirmations DROP COLUMN supersedes`);
    await q.query(`ALTER TABLE attestation_policies DROP COLUMN date_tolerance_days`);
  }
}
