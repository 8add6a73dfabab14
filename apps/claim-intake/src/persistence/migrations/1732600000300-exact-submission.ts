import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Claims keep the insurer's submission exactly as sent (text, not the parsed claim as jsonb) with the salt of the
 * commitment to it in claims.submitted.v1. Claims stored earlier keep their parsed claim's JSON text and no salt.
 */
export class ExactSubmission1732600000300 implements MigrationInterface {
  name = 'ExactSubmission1732600000300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE claims RENAME COLUMN resource TO submission`);
    await q.query(`ALTER TABLE claims ALTER COLUMN submission TYPE text USING submission::text`);
    await q.query(`ALTER TABLE claims ADD COLUMN submission_salt bytea`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE claims DROP COLUMN submission_salt`);
    await q.query(`ALTER TABLE claims ALTER COLUMN submission TYPE jsonb USING submission::jsonb`);
    await q.query(`ALTER TABLE claims RENAME COLUMN submission TO resource`);
  }
}
