import { DataSource } from 'typeorm';
import { Pool } from 'pg';
import { postgresDriverOptions, SERVICE_NAMES } from '@claimchain/config';
import { RunningSystem, startSystem } from '../e2e/system';

/**
 * The pool settings reach Postgres through each service's own DataSource, as the service builds it: the session
 * timeouts are what Postgres says they are on the service's connections, the pool limits what pg's Pool was given.
 */
describe(postgresDriverOptions.name, () => {
  let system: RunningSystem;

  beforeAll(async () => {
    system = await startSystem({
      env: {
        DATABASE_POOL_MAX: '7',
        DATABASE_CONNECT_TIMEOUT_MS: '4321',
        DATABASE_STATEMENT_TIMEOUT_MS: '12345',
        DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '23456',
      },
    });
  });

  afterAll(async () => {
    await system?.stop();
  });

  it.each(SERVICE_NAMES)('sets the statement and idle-in-transaction timeouts on %s’s sessions', async (service) => {
    const ds = system.app(service).get(DataSource);
    const [statement] = await ds.query(`SHOW statement_timeout`);
    const [idle] = await ds.query(`SHOW idle_in_transaction_session_timeout`);
    expect([statement.statement_timeout, idle.idle_in_transaction_session_timeout]).toEqual(['12345ms', '23456ms']);
  });

  it.each(SERVICE_NAMES)('gives %s’s pool its size and connect timeout', (service) => {
    const pool = (system.app(service).get(DataSource).driver as unknown as { master: Pool }).master;
    expect({ max: pool.options.max, connectionTimeoutMillis: pool.options.connectionTimeoutMillis }).toEqual({
      max: 7,
      connectionTimeoutMillis: 4321,
    });
  });
});
