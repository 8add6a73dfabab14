import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { PostgresSettings } from './postgres';
import { SERVICES, ServiceName, envPrefixOf } from './services';

/**
 * Every environment variable the system reads, validated once at start so a typo fails loudly. Each service's
 * variables may be prefixed with its name (CLAIM_INTAKE_PORT) to run several on one machine; the unprefixed one
 * applies to all.
 */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_KAFKA_BROKERS = '127.0.0.1:9092';
/** The local identity provider's issuer and audience (npm start); production sets its own. */
export const DEV_AUTH_ISSUER = 'https://auth.claimchain.local';
export const DEV_AUTH_AUDIENCE = 'claimchain';

const HOUR_MS = 3_600_000;
const hours = z.coerce.number().positive();
const timeoutMs = z.coerce.number().int().nonnegative();

const DEV_PSEUDONYM_KEY = 'dev-only-pseudonym-key-change-me';
const DEV_WEBHOOK_SECRET_KEY = 'dev-only-webhook-secret-key-change-me';

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
  CLAIM_QUEUE_MAX: z.coerce.number().int().positive().default(1024),
  PENDING_CONFIRMATIONS_MAX_PER_PROVIDER: z.coerce.number().int().positive().default(10_000),
  PENDING_CONFIRMATION_TTL_HOURS: hours.default(720),
  /** Unset: required with NODE_ENV=production, optional otherwise. */
  CONFIRMATION_SIGNATURES_REQUIRED: z.enum(['true', 'false']).optional(),
  KAFKA_BROKERS: z.string().min(1).default(DEFAULT_KAFKA_BROKERS),
  KAFKA_GROUP_PREFIX: z.string().min(1).default('claimchain'),
  KAFKA_SSL: z.enum(['true', 'false']).default('false'),
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug', 'verbose']).default('log'),
  PSEUDONYM_KEY: z.string().min(16).default(DEV_PSEUDONYM_KEY),
  LEDGER_ORIGIN: z.string().min(1).default('claimchain.local/ledger'),
  LEDGER_SIGNING_KEY_FILE: z.string().optional(),
  /** The secret the ledger derives each leaf's datahash salt from (ADR 16); a dev-only key when unset, outside production. */
  LEDGER_SALT_KEY_FILE: z.string().min(1).optional(),
  /** Leaves from this index on are salted (v2); 0 for a new log, the tree size at the upgrade for an existing one. */
  LEDGER_SALTED_FROM_INDEX: z.coerce.number().int().nonnegative().default(0),
  LEDGER_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().positive().default(200),
  LEDGER_CHECKPOINT_MAX_ENTRIES: z.coerce.number().int().positive().default(1000),
  LEDGER_ANCHOR_DIR: z.string().min(1).optional(),
  LEDGER_URL: z.string().url().optional(),
  /** With NODE_ENV=production LEDGER_URL must be https unless this says the network itself is authenticated. */
  LEDGER_URL_ALLOW_HTTP: z.enum(['true', 'false']).default('false'),
  LEDGER_VERIFIER_KEY: z
    .string()
    .regex(
      /^[^+\s,]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+(,[^+\s,]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+)*$/,
      'note verifier keys <name>+<keyid>+<key>, comma-separated, the current one first',
    )
    .optional(),
  /** This service's event signing key (a note signer key named after the service), ADR 18. */
  EVENT_SIGNING_KEY_FILE: z.string().min(1).optional(),
  /** Every producer's event verifier keys (named after their service), comma-separated, each's current one first. */
  EVENT_VERIFIER_KEYS: z
    .string()
    .regex(
      /^[^+\s,]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+(,[^+\s,]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+)*$/,
      "note verifier keys <service>+<keyid>+<key>, comma-separated, each service's current one first",
    )
    .optional(),
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
  PAYMENT_MAX_ATTEMPTS: z.coerce.number().int().positive().default(8),
  PAYMENT_RETRY_BASE_MS: z.coerce.number().int().positive().default(500),
  PAYMENT_RETRY_MAX_MS: z.coerce.number().int().positive().default(300_000),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  WEBHOOK_ALLOW_HTTP: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Unset: allowed, except with NODE_ENV=production. */
  WEBHOOK_ALLOW_LOOPBACK: z.enum(['true', 'false']).optional(),
  WEBHOOK_SECRET_KEY: z.string().min(32).default(DEV_WEBHOOK_SECRET_KEY),
  /** payout, development and tests only: insurers without a webhook are paid by a simulated bank. */
  SIMULATED_BANK: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** payout: worker threads that run contracts; unset: one per core beyond the first, 1 to 4. */
  ADJUDICATION_WORKERS: z.coerce.number().int().min(1).max(64).optional(),
  /** payout: a claim whose contract runs longer than this is pended for review (`contract-timeout`). */
  ADJUDICATION_TIMEOUT_MS: z.coerce.number().int().min(10).default(2000),
  /** payout, development and tests only: publish the demo contract, which pays claims that have no policy. */
  DEMO_CONTRACT: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

export interface KafkaSecurity {
  /** TLS to the brokers; `caFile` adds a CA (PEM) to the system's trusted ones. */
  ssl?: { caFile?: string };
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

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
  /** claim-intake: submissions waiting for a group-commit batch at most; more are refused with a 503. */
  claimQueueMax: number;
  /** treatment-verification: confirmations that arrived before their claim. */
  pendingConfirmations: { maxPerProvider: number; ttlMs: number };
  /** treatment-verification: whether a confirmation must be signed for an insurer that set no policy of its own. */
  signedConfirmationsRequiredByDefault: boolean;
  kafkaBrokers: string[];
  /** TLS and SASL towards the brokers; both off by default (the local broker is plaintext). */
  kafkaSecurity: KafkaSecurity;
  kafkaClientId: string;
  kafkaGroupId: string;
  logLevel: z.infer<typeof Env>['LOG_LEVEL'];
  pseudonymKey: string;
  auth: { jwksUrl?: string; jwksFile?: string; issuer: string; audience: string; rateLimitPerSecond: number };
  /** Fastify's `trustProxy`: whose X-Forwarded-For gives `req.ip` (off by default: the peer's address). */
  trustProxy: boolean | number | string[];
  /** payout's payment rails: retries of a refused payout, and the insurers' webhooks. */
  payments: {
    /** A released payout the rail refused this many times is marked failed (payouts.failed.v1). */
    maxAttempts: number;
    /** Backoff after the n-th refusal: min(base · 2^(n-1), max). */
    retryBaseMs: number;
    retryMaxMs: number;
    webhookTimeoutMs: number;
    /** Accept plain-http webhook URLs beyond loopback (tests, closed networks); https otherwise. */
    webhookAllowHttp: boolean;
    /**
     * Accept webhook URLs to loopback (and deliver there): development and tests. Addresses in private, link-local
     * or reserved networks are refused whatever this says.
     */
    webhookAllowLoopback: boolean;
    /** Encrypts the insurers' webhook signing secrets at rest (AES-256-GCM under a key derived from it). */
    webhookSecretKey: string;
    /**
     * Development and tests: a simulated bank pays insurers without a webhook. Off, such a payout waits for a rail
     * (`awaiting-rail`) and is never settled; refused with NODE_ENV=production.
     */
    simulatedBank: boolean;
  };
  /**
   * payout, development and tests: the demo contract is published at start and adjudicates claims without a policy
   * in force. Off, such a claim is denied (CO-31 / CO-26 / CO-27); refused with NODE_ENV=production.
   */
  demoContract: boolean;
  /**
   * Event authenticity (ADR 18): the file of the key this service signs its events with, and the verifier keys of
   * every producer (their key names are the services' names; for each, the current key first, then earlier ones
   * while events signed before a rotation may still be consumed).
   */
  events: {
    signingKeyFile?: string;
    verifierKeys: string[];
  };
  /**
   * payout: contracts run on `workers` worker threads; a claim whose contract runs longer than `timeoutMs` is pended
   * for review and its thread replaced (ADR 17).
   */
  adjudication: { workers: number; timeoutMs: number };
  ledger: {
    origin: string;
    signingKeyFile?: string;
    /** Where the leaf salt key is; unset: the dev-only key, refused with NODE_ENV=production by the ledger. */
    saltKeyFile?: string;
    /** The first leaf index that is salted (v2): a replay rebuilds the leaves before it unsalted, as they were. */
    saltedFromIndex: number;
    /** NODE_ENV=production: the ledger refuses to start without LEDGER_SALT_KEY_FILE. */
    saltKeyRequired: boolean;
    /** The ledger's current note verifier key (the first listed), printed into claim receipts. */
    verifierKey?: string;
    /**
     * Every key whose checkpoint signatures are accepted: the current one and, while a rotation is under way (or for
     * the audit of older checkpoints), the ones before it.
     */
    verifierKeys: string[];
    /** Where the directory anchor sink writes `<treeSize>.checkpoint` files; no directory sink when unset. */
    anchorDir?: string;
    /** ledger-anchoring's public read API, where payout fetches consistency proofs between checkpoints. */
    url: string;
    checkpointIntervalMs: number;
    checkpointMaxEntries: number;
  };
};

/** Reads `<SERVICE>_<NAME>` first, then `<NAME>`. */
function scopedEnv(service: ServiceName, env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const prefix = `${envPrefixOf(service)}_`;
  const out: Record<string, string | undefined> = {};
  for (const key of Object.keys(Env.shape)) out[key] = env[prefix + key] ?? env[key];
  return out;
}

/** The database a service owns on the configured server: `<prefix>_<service db>`. */
export function databaseUrlFor(service: ServiceName, baseUrl: string, prefix: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/${prefix}_${SERVICES[service].database}`;
  return url.toString();
}

export function loadServiceConfig(service: ServiceName, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const parsed = Env.safeParse(scopedEnv(service, env));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration for ${service}: ${problems}`);
  }
  const e = parsed.data;
  if (env.NODE_ENV === 'production') refuseDevSettings(service, e);
  return {
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
    claimQueueMax: e.CLAIM_QUEUE_MAX,
    pendingConfirmations: {
      maxPerProvider: e.PENDING_CONFIRMATIONS_MAX_PER_PROVIDER,
      ttlMs: e.PENDING_CONFIRMATION_TTL_HOURS * HOUR_MS,
    },
    signedConfirmationsRequiredByDefault:
      (e.CONFIRMATION_SIGNATURES_REQUIRED ?? String(env.NODE_ENV === 'production')) === 'true',
    kafkaBrokers: e.KAFKA_BROKERS.split(',').map((b) => b.trim()),
    kafkaSecurity: kafkaSecurityOf(e),
    kafkaClientId: service,
    kafkaGroupId: `${e.KAFKA_GROUP_PREFIX}.${service}`,
    logLevel: e.LOG_LEVEL,
    pseudonymKey: e.PSEUDONYM_KEY,
    auth: {
      jwksUrl: e.AUTH_JWKS_URL,
      jwksFile: e.AUTH_JWKS_FILE,
      issuer: e.AUTH_ISSUER,
      audience: e.AUTH_AUDIENCE,
      rateLimitPerSecond: e.RATE_LIMIT_PER_SECOND,
    },
    trustProxy: trustProxyOf(e.TRUST_PROXY),
    payments: {
      maxAttempts: e.PAYMENT_MAX_ATTEMPTS,
      retryBaseMs: e.PAYMENT_RETRY_BASE_MS,
      retryMaxMs: e.PAYMENT_RETRY_MAX_MS,
      webhookTimeoutMs: e.WEBHOOK_TIMEOUT_MS,
      webhookAllowHttp: e.WEBHOOK_ALLOW_HTTP,
      webhookAllowLoopback: (e.WEBHOOK_ALLOW_LOOPBACK ?? String(env.NODE_ENV !== 'production')) === 'true',
      webhookSecretKey: e.WEBHOOK_SECRET_KEY,
      simulatedBank: e.SIMULATED_BANK,
    },
    demoContract: e.DEMO_CONTRACT,
    events: {
      signingKeyFile: e.EVENT_SIGNING_KEY_FILE,
      verifierKeys: [...new Set(e.EVENT_VERIFIER_KEYS?.split(',') ?? [])],
    },
    adjudication: {
      // The main thread keeps a core for HTTP, Kafka and Postgres: on 2 cores, one worker.
      workers: e.ADJUDICATION_WORKERS ?? Math.max(1, Math.min(4, availableParallelism() - 1)),
      timeoutMs: e.ADJUDICATION_TIMEOUT_MS,
    },
    ledger: {
      origin: e.LEDGER_ORIGIN,
      signingKeyFile: e.LEDGER_SIGNING_KEY_FILE,
      saltKeyFile: e.LEDGER_SALT_KEY_FILE,
      saltedFromIndex: e.LEDGER_SALTED_FROM_INDEX,
      saltKeyRequired: env.NODE_ENV === 'production',
      verifierKey: e.LEDGER_VERIFIER_KEY?.split(',')[0],
      verifierKeys: [...new Set(e.LEDGER_VERIFIER_KEY?.split(',') ?? [])],
      anchorDir: e.LEDGER_ANCHOR_DIR,
      url: e.LEDGER_URL ?? `http://127.0.0.1:${SERVICES['ledger-anchoring'].port}`,
      checkpointIntervalMs: e.LEDGER_CHECKPOINT_INTERVAL_MS,
      checkpointMaxEntries: e.LEDGER_CHECKPOINT_MAX_ENTRIES,
    },
  };
}

/**
 * With NODE_ENV=production (the container image sets it) a service refuses to start on settings that are only safe
 * on a developer's machine, naming each, rather than run with a published key or without checking the ledger.
 */
function refuseDevSettings(service: ServiceName, e: z.infer<typeof Env>): void {
  const problems: string[] = [];
  if (service === 'claim-intake' && e.PSEUDONYM_KEY === DEV_PSEUDONYM_KEY) {
    problems.push('PSEUDONYM_KEY is the published dev-only key');
  }
  if (service === 'payout' && e.WEBHOOK_SECRET_KEY === DEV_WEBHOOK_SECRET_KEY) {
    problems.push('WEBHOOK_SECRET_KEY is the published dev-only key');
  }
  if (service === 'payout' && e.SIMULATED_BANK)
    problems.push('SIMULATED_BANK=true would settle money that never moved');
  if (service === 'payout' && e.DEMO_CONTRACT) problems.push('DEMO_CONTRACT=true would pay claims without a policy');
  if (service === 'payout' && !e.LEDGER_URL?.startsWith('https://') && e.LEDGER_URL_ALLOW_HTTP !== 'true') {
    // Proofs verify themselves, but one fetched over plain http can be replaced on the way: payments then wait.
    problems.push('LEDGER_URL must be an https:// URL (or set LEDGER_URL_ALLOW_HTTP=true behind an mTLS mesh)');
  }
  if (service === 'payout' && !e.LEDGER_VERIFIER_KEY) {
    problems.push("LEDGER_VERIFIER_KEY is not set: payout would pay without checking the ledger's signatures");
  }
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
