import { PreparedStatementClient } from './prepared-statements';

/**
 * How a service talks to its Postgres: the pool size and the timeouts that keep a stuck connection, statement or
 * transaction from holding a pool slot (and its locks) for ever. Every service's runtime DataSource takes its driver
 * options from here, so the limits are set in one place.
 */
export interface PostgresSettings {
  /** Connections in the pool at most. */
  poolMax: number;
  /** How long connecting, or waiting for a free pooled connection, may take before the query fails. */
  connectTimeoutMs: number;
  /** Postgres cancels a statement running longer (SQLSTATE 57014); 0 turns it off. */
  statementTimeoutMs: number;
  /** Postgres ends a session idle inside a transaction for longer, releasing its locks; 0 turns it off. */
  idleInTransactionTimeoutMs: number;
}

/** The pool size when no settings are given (ops commands, migrations, tests that build a DataSource of their own). */
const DEFAULT_POOL_MAX = 20;

/**
 * The TypeORM postgres options for a pool with these settings: `connectTimeoutMS` is pg's connectionTimeoutMillis,
 * and `extra` goes to pg's Pool, whose clients send the two timeouts as session parameters when they connect, and
 * prepare each parameterised statement once per connection (PreparedStatementClient).
 *
 * Without settings, no timeout at all: migrations (a CREATE INDEX on a large table) and audits (a long leaf stream)
 * take as long as they take.
 */
export function postgresDriverOptions(settings?: PostgresSettings): {
  connectTimeoutMS?: number;
  extra: Record<string, unknown>;
} {
  if (!settings) return { extra: { max: DEFAULT_POOL_MAX, Client: PreparedStatementClient } };
  return {
    connectTimeoutMS: settings.connectTimeoutMs,
    extra: {
      Client: PreparedStatementClient,
      max: settings.poolMax,
      statement_timeout: settings.statementTimeoutMs,
      idle_in_transaction_session_timeout: settings.idleInTransactionTimeoutMs,
    },
  };
}
