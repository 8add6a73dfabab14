import { z } from 'zod';
import { PostgresSettings } from './postgres';
import { SERVICES, ServiceName, envPrefixOf } from './services';

/**
 * The environment variables every service reads (HTTP, database, messaging retention, Kafka, logging, event keys,
 * auth), validated once at start so a typo fails loudly. An app's own settings live beside it
 * (`apps/<app>/src/<app>.config.ts`) and are validated here together with these, in one pass and with one message.
 * Each service's variables may be prefixed with its name (CLAIM_INTAKE_PORT) to run several on one machine; the
 * unprefixed one applies to all.
 */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_KAFKA_BROKERS = '127.0.0.1:9092';
/** The local identity provider's issuer and audience (npm start); production sets its own. */
export const DEV_AUTH_ISSUER = 'https://auth.claimchain.local';
export const DEV_AUTH_AUDIENCE = 'claimchain';

export const HOUR_MS = 3_600_000;
const hours = z.coerce.number().positive();
const timeoutMs = z.coerce.number().int().nonnegative();

/** Comma-separated C2SP note verifier keys (`<name>+<keyid>+<key>`). */
function noteVerifierKeys(message: string) {
  return z
    .string()
    .regex(/^[^+\s,]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+(,[^+\s,]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+)*$/, message);
}

/**
 * `LEDGER_VERIFIER_KEY`, read by the three apps that check or print the ledger's checkpoints (claim-intake,
 * ledger-anchoring, payout), each spreading it into its own variables.
 */
export const LEDGER_VERIFIER_KEY_VARIABLE = {
  LEDGER_VERIFIER_KEY: noteVerifierKeys(
    'note verifier keys <name>+<keyid>+<key>, comma-separated, the current one first',
  ).optional(),
};

/** The current ledger verifier key (the first listed) and every key listed, duplicates dropped. */
export function ledgerVerifierKeysOf(value: string | undefined): { verifierKey?: string; verifierKeys: string[] } {
  return { verifierKey: value?.split(',')[0], verifierKeys: [...new Set(value?.split(',') ?? [])] };
}

const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  HOST: z.string().default('127.0.0.1'),
  /** Prometheus metrics (GET /metrics) on a listener of their own, never on the public port; 0: any free port. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  DATABASE_URL: z.string().url().default(DEFAULT_DATABASE_URL),
  DATABASE_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/)
    .default('claimchain'),
  DATABASE_POOL_MAX: z.coerce.number().int().positive().default(20),
  DATABASE_CONNECT_TIMEOUT_MS: timeoutMs.default(10_000),
  DATABASE_STATEMENT_TIMEOUT_MS: timeoutMs.default(30_000),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: timeoutMs.default(60_000),
  OUTBOX_RETENTION_HOURS: hours.default(72),
  INBOX_RETENTION_HOURS: hours.default(336),
  IDEMPOTENCY_KEY_RETENTION_HOURS: hours.default(168),
  PRUNE_INTERVAL_MS: z.coerce.number().int().positive().default(60_000),
  PRUNE_BATCH_SIZE: z.coerce.number().int().positive().default(1000),
  KAFKA_BROKERS: z.string().min(1).default(DEFAULT_KAFKA_BROKERS),
  KAFKA_GROUP_PREFIX: z.string().min(1).default('claimchain'),
  KAFKA_SSL: z.enum(['true', 'false']).default('false'),
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug', 'verbose']).default('log'),
  /** This service's event signing key (a note signer key named after the service), ADR 18. */
  EVENT_SIGNING_KEY_FILE: z.string().min(1).optional(),
  /** Every producer's event verifier keys (named after their service), comma-separated, each's current one first. */
  EVENT_VERIFIER_KEYS: noteVerifierKeys(
    "note verifier keys <service>+<keyid>+<key>, comma-separated, each service's current one first",
  ).optional(),
  AUTH_JWKS_URL: z.string().url().optional(),
  AUTH_JWKS_FILE: z.string().min(1).optional(),
  AUTH_ISSUER: z.string().min(1).default(DEV_AUTH_ISSUER),
  AUTH_AUDIENCE: z.string().min(1).default(DEV_AUTH_AUDIENCE),
  RATE_LIMIT_PER_SECOND: z.coerce.number().int().positive().default(500),
  /**
   * Which proxies' X-Forwarded-For to believe for the client address (rate limits of unauthenticated requests):
   * `false` (none), `true` (any: only behind a proxy that overwrites the header), a hop count, or addresses/CIDRs.
   */
  TRUST_PROXY: z
    .string()
    .regex(
      /^(true|false|\d{1,2}|[0-9a-fA-F.:/]+(,[0-9a-fA-F.:/]+)*)$/,
      'true, false, a number of proxy hops, or comma-separated proxy addresses or CIDRs',
    )
    .default('false'),
});

export interface KafkaSecurity {
  /** TLS to the brokers; `caFile` adds a CA (PEM) to the system's trusted ones. */
  ssl?: { caFile?: string };
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

/** What every service is configured with; an app's own settings are added to it by its `AppSettings`. */
export type ServiceConfig = {
  service: ServiceName;
  port: number;
  /** Where GET /metrics answers, on HOST: a port of its own that the public HTTP server and ingress do not serve. */
  metricsPort: number;
  host: string;
  databaseUrl: string;
  /** The runtime pool's size and timeouts (postgresDriverOptions). */
  postgres: PostgresSettings;
  /**
   * How long messaging rows are kept before the retention pruner deletes them (RetentionPruner): published outbox
   * rows after publication, inbox rows after processing (must outlast the topics' retention, see the README), and
   * Idempotency-Keys after first use.
   */
  retention: {
    outboxMs: number;
    inboxMs: number;
    idempotencyKeysMs: number;
    pruneIntervalMs: number;
    /** Rows per DELETE: each is a short transaction of its own. */
    pruneBatchSize: number;
  };
  kafkaBrokers: string[];
  /** TLS and SASL towards the brokers; both off by default (the local broker is plaintext). */
  kafkaSecurity: KafkaSecurity;
  kafkaClientId: string;
  kafkaGroupId: string;
  logLevel: z.infer<typeof Env>['LOG_LEVEL'];
  auth: { jwksUrl?: string; jwksFile?: string; issuer: string; audience: string; rateLimitPerSecond: number };
  /** Fastify's `trustProxy`: whose X-Forwarded-For gives `req.ip` (off by default: the peer's address). */
  trustProxy: boolean | number | string[];
  /**
   * Event authenticity (ADR 18): the file of the key this service signs its events with, and the verifier keys of
   * every producer (their key names are the services' names; for each, the current key first, then earlier ones
   * while events signed before a rotation may still be consumed).
   */
  events: {
    signingKeyFile?: string;
    verifierKeys: string[];
  };
};

/**
 * One app's own settings, defined beside the app: its variables (validated together with the shared ones, and
 * prefixed the same way), the settings it builds from them, and what it refuses to start with in production.
 */
export interface AppSettings<Shape extends z.ZodRawShape, Settings> {
  variables: Shape;
  build(e: z.infer<z.ZodObject<Shape>>, env: NodeJS.ProcessEnv): Settings;
  /** With NODE_ENV=production: each setting only safe on a developer's machine, said in a sentence naming it. */
  refuseInProduction?(e: z.infer<z.ZodObject<Shape>>): string[];
}

/** Reads `<SERVICE>_<NAME>` first, then `<NAME>`, for each variable of `shape`. */
function scopedEnv(
  service: ServiceName,
  shape: z.ZodRawShape,
  env: NodeJS.ProcessEnv,
): Record<string, string | undefined> {
  const prefix = `${envPrefixOf(service)}_`;
  const out: Record<string, string | undefined> = {};
  for (const key of Object.keys(shape)) out[key] = env[prefix + key] ?? env[key];
  return out;
}

/** The database a service owns on the configured server: `<prefix>_<service db>`. */
export function databaseUrlFor(service: ServiceName, baseUrl: string, prefix: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/${prefix}_${SERVICES[service].database}`;
  return url.toString();
}

/**
 * A service's configuration: the shared settings, and with `app` its own, all validated in one pass (every invalid
 * variable named in one error). Without `app` (the launcher, ops commands, tests), only the shared settings.
 */
export function loadServiceConfig(service: ServiceName, env?: NodeJS.ProcessEnv): ServiceConfig;
export function loadServiceConfig<Shape extends z.ZodRawShape, Settings>(
  service: ServiceName,
  env: NodeJS.ProcessEnv,
  app: AppSettings<Shape, Settings>,
): ServiceConfig & Settings;
export function loadServiceConfig<Shape extends z.ZodRawShape, Settings>(
  service: ServiceName,
  env: NodeJS.ProcessEnv = process.env,
  app?: AppSettings<Shape, Settings>,
): ServiceConfig | (ServiceConfig & Settings) {
  const schema = app ? Env.extend(app.variables) : Env;
  const parsed = schema.safeParse(scopedEnv(service, schema.shape, env));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration for ${service}: ${problems}`);
  }
  const e = parsed.data as z.infer<typeof Env>;
  const own = parsed.data as z.infer<z.ZodObject<Shape>>;
  if (env.NODE_ENV === 'production') refuseDevSettings(service, e, app?.refuseInProduction?.(own) ?? []);
  const shared: ServiceConfig = {
    service,
    port: e.PORT ?? SERVICES[service].port,
    metricsPort: e.METRICS_PORT ?? SERVICES[service].metricsPort,
    host: e.HOST,
    databaseUrl: databaseUrlFor(service, e.DATABASE_URL, e.DATABASE_PREFIX),
    postgres: {
      poolMax: e.DATABASE_POOL_MAX,
      connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
      idleInTransactionTimeoutMs: e.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    },
    retention: {
      outboxMs: e.OUTBOX_RETENTION_HOURS * HOUR_MS,
      inboxMs: e.INBOX_RETENTION_HOURS * HOUR_MS,
      idempotencyKeysMs: e.IDEMPOTENCY_KEY_RETENTION_HOURS * HOUR_MS,
      pruneIntervalMs: e.PRUNE_INTERVAL_MS,
      pruneBatchSize: e.PRUNE_BATCH_SIZE,
    },
    kafkaBrokers: e.KAFKA_BROKERS.split(',').map((b) => b.trim()),
    kafkaSecurity: kafkaSecurityOf(e),
    kafkaClientId: service,
    kafkaGroupId: `${e.KAFKA_GROUP_PREFIX}.${service}`,
    logLevel: e.LOG_LEVEL,
    auth: {
      jwksUrl: e.AUTH_JWKS_URL,
      jwksFile: e.AUTH_JWKS_FILE,
      issuer: e.AUTH_ISSUER,
      audience: e.AUTH_AUDIENCE,
      rateLimitPerSecond: e.RATE_LIMIT_PER_SECOND,
    },
    trustProxy: trustProxyOf(e.TRUST_PROXY),
    events: {
      signingKeyFile: e.EVENT_SIGNING_KEY_FILE,
      verifierKeys: [...new Set(e.EVENT_VERIFIER_KEYS?.split(',') ?? [])],
    },
  };
  return app ? { ...shared, ...app.build(own, env) } : shared;
}

/**
 * With NODE_ENV=production (the container image sets it) a service refuses to start on settings that are only safe
 * on a developer's machine, naming each (the app's own first), rather than run with a published key or without
 * checking the ledger.
 */
function refuseDevSettings(service: ServiceName, e: z.infer<typeof Env>, appProblems: string[]): void {
  const problems = [...appProblems];
  if (!e.EVENT_SIGNING_KEY_FILE)
    problems.push('EVENT_SIGNING_KEY_FILE is not set: the events this service produces would be unsigned');
  if (!e.EVENT_VERIFIER_KEYS)
    problems.push("EVENT_VERIFIER_KEYS is not set: no producer's events could be authenticated");
  if (!e.AUTH_JWKS_URL && !e.AUTH_JWKS_FILE) problems.push('AUTH_JWKS_URL (or AUTH_JWKS_FILE) is not set');
  if (problems.length > 0) {
    throw new Error(`Refusing to start ${service} with NODE_ENV=production: ${problems.join('; ')}`);
  }
}
function trustProxyOf(value: string): boolean | number | string[] {
  if (value === 'true' || value === 'false') return value === 'true';
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(',');
}

function kafkaSecurityOf(e: z.infer<typeof Env>): KafkaSecurity {
  const security: KafkaSecurity = {};
  if (e.KAFKA_SSL === 'true' || e.KAFKA_SSL_CA_FILE) security.ssl = { caFile: e.KAFKA_SSL_CA_FILE };
  if (e.KAFKA_SASL_MECHANISM) {
    if (!e.KAFKA_SASL_USERNAME || !e.KAFKA_SASL_PASSWORD) {
      throw new Error('KAFKA_SASL_MECHANISM is set: KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required too');
    }
    security.sasl = {
      mechanism: e.KAFKA_SASL_MECHANISM,
      username: e.KAFKA_SASL_USERNAME,
      password: e.KAFKA_SASL_PASSWORD,
    };
  }
  return security;
}

/**
 * The brokers and their security for a command that is not one of the services (dead letters, topic creation):
 * the same variables as the services read, unprefixed.
 */
export function loadKafkaConnection(env: NodeJS.ProcessEnv = process.env): {
  brokers: string[];
  security: KafkaSecurity;
} {
  const config = loadServiceConfig('claim-intake', { ...env, NODE_ENV: undefined });
  return { brokers: config.kafkaBrokers, security: config.kafkaSecurity };
}
