/**
 * Creates (and, for tests, drops) the services' databases on the configured Postgres server. Migrations are not
 * run here: scripts/migrate.ts owns them.
 */
import { Client } from 'pg';
import { SERVICE_NAMES, databaseUrlFor } from '@claimchain/config';

const START_POSTGRES = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';

/** The four services' database names for a prefix, e.g. `claimchain_test_claim_intake`. */
export function serviceDatabaseNames(baseUrl: string, prefix: string): string[] {
  return SERVICE_NAMES.map((s) => new URL(databaseUrlFor(s, baseUrl, prefix)).pathname.slice(1));
}

/** Connects to the server named by baseUrl (any database on it), runs fn, disconnects. */
async function withServer<T>(baseUrl: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: baseUrl, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (err) {
    const where = redactUrl(baseUrl);
    throw new Error(
      `Cannot connect to Postgres at ${where}: ${(err as Error).message}. ` +
        'Set DATABASE_URL to a reachable server (any database on it; the services get their own), ' +
        `or start the local one: ${START_POSTGRES}`,
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates the databases that do not exist yet; returns the names it created. */
export async function ensureDatabases(baseUrl: string, names: string[]): Promise<string[]> {
  return withServer(baseUrl, async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE datname = ANY($1)',
      [names],
    );
    const existing = new Set(rows.map((r) => r.datname));
    const created: string[] = [];
    for (const name of names.filter((n) => !existing.has(n))) {
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
        created.push(name);
      } catch (err) {
        // Another process created it between our check and now (duplicate_database, or the catalog's unique index).
        const code = (err as { code?: string }).code;
        if (code !== '42P04' && code !== '23505') throw err;
      }
    }
    return created;
  });
}

/** Drops the databases, disconnecting whoever is still connected (Postgres ≥ 13). For tests. */
export async function dropDatabases(baseUrl: string, names: string[]): Promise<void> {
  await withServer(baseUrl, async (client) => {
    for (const name of names)
      await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
  });
}

/** The URL with its password masked, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
