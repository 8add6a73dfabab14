import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Contract lifecycle (ADR 21): `effective_from` NULL is a draft, used for no claim; a contract decides claims served
 * on or after `effective_from` and before `retired_from`. Every contract published before this (all through v1) is
 * active from 0001-01-01, as a v1 publish still is.
 */
export class ContractLifecycle1733700000000 implements MigrationInterface {
  name = 'ContractLifecycle1733700000000';

  async up(q: QueryRunner): Promise<void> {
    // A constant default fills the existing rows without rewriting the table; new rows name their own.
    await q.query(`ALTER TABLE contracts ADD COLUMN effective_from date DEFAULT '0001-01-01'`);
    await q.query(`ALTER TABLE contracts ALTER COLUMN effective_from DROP DEFAULT`);
    await q.query(`ALTER TABLE contracts ADD COLUMN retired_from date`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE contracts DROP COLUMN retired_from`);
    await q.query(`ALTER TABLE contracts DROP COLUMN effective_from`);
  }
}
