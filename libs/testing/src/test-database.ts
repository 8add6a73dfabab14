import { Client } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';
import { DEFAULT_DATABASE_URL } from '@claimchain/config';
import { waitFor } from './wait-for';

/** Creates a fresh, empty database for one test file on the real Postgres and returns its URL. */
export async function freshDatabase(name: string): Promise<string> {
  const base = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const admin = new Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A migrated DataSource on a fresh database. */
export async function migratedDataSource(name: string, options: Omit<DataSourceOptions, 'url'>): Promise<DataSource> {
  const url = await freshDatabase(name);
  const ds = new DataSource({ ...options, url } as DataSourceOptions);
  await ds.initialize();
  await ds.runMigrations();
  return ds;
}

/** Waits until `count` sessions on `ds`'s database are waiting for an advisory lock (held by the test meanwhile). */
export async function waitForAdvisoryLockWaiters(ds: DataSource, count: number, description: string): Promise<void> {
  await waitFor(description, async () => {
    const [{ n }]: { n: number }[] = await ds.query(
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
        WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()`,
    );
    return n === count;
  });
}
