import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freshDatabase } from '@claimchain/testing';
import { migrateService } from '../../scripts/migrate';

const run = promisify(execFile);
const ROOT = join(__dirname, '../..');

async function appliedMigrations(url: string): Promise<string[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ name: string }>(`SELECT name FROM migrations ORDER BY id`)).rows.map((r) => r.name);
  } finally {
    await client.end();
  }
}

describe('migrations', () => {
  it('run once when two migrators start together (a Job retried while the first still runs)', async () => {
    const url = await freshDatabase(`${process.env.DATABASE_PREFIX}_migrate_race`);
    const [a, b] = await Promise.all([migrateService('payout', url), migrateService('payout', url)]);
    const applied = await appliedMigrations(url);
    expect(applied.length).toBeGreaterThan(0);
    // One did them all, the other found nothing left to do; none ran twice.
    expect([a, b].map((ran) => ran.length).sort((x, y) => x - y)).toEqual([0, applied.length]);
    expect(new Set(applied).size).toBe(applied.length);
  });

  it('as a command migrate the database the service is configured for, and report nothing to do the second time', async () => {
    const prefix = `${process.env.DATABASE_PREFIX}_migrate_cli`;
    const url = await freshDatabase(`${prefix}_treatment_verification`);
    const env = { ...process.env, DATABASE_PREFIX: prefix };
    const cli = () =>
      run(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts', 'treatment-verification'], { cwd: ROOT, env });
    const first = await cli();
    expect(first.stdout).toMatch(/^treatment-verification: [1-9]\d* migration\(s\) run: /);
    expect((await cli()).stdout).toBe('treatment-verification: 0 migration(s) run\n');
    expect((await appliedMigrations(url)).length).toBeGreaterThan(0);
    await expect(
      run(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts', 'nonsense'], { cwd: ROOT, env }),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('usage: migrate'),
    });
  });
});
