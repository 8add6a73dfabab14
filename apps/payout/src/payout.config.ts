import { availableParallelism } from 'node:os';
import {
  AppSettings,
  LEDGER_VERIFIER_KEY_VARIABLE,
  SERVICES,
  ledgerVerifierKeysOf,
  loadServiceConfig,
} from '@claimchain/config';
import { z } from 'zod';

/**
 * payout's own settings (the shared ones are libs/config's): payment rails and webhooks, the adjudication workers,
 * the development-only simulated bank and demo contract, and where and how it checks the ledger.
 */
const DEV_WEBHOOK_SECRET_KEY = 'dev-only-webhook-secret-key-change-me';
const flag = z
  .enum(['true', 'false'])
  .default('false')
  .transform((v) => v === 'true');

const variables = {
  PAYMENT_MAX_ATTEMPTS: z.coerce.number().int().positive().default(8),
  PAYMENT_RETRY_BASE_MS: z.coerce.number().int().positive().default(500),
  PAYMENT_RETRY_MAX_MS: z.coerce.number().int().positive().default(300_000),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  WEBHOOK_ALLOW_HTTP: flag,
  /** Unset: allowed, except with NODE_ENV=production. */
  WEBHOOK_ALLOW_LOOPBACK: z.enum(['true', 'false']).optional(),
  WEBHOOK_SECRET_KEY: z.string().min(32).default(DEV_WEBHOOK_SECRET_KEY),
  /** Development and tests only: insurers without a webhook are paid by a simulated bank. */
  SIMULATED_BANK: flag,
  /** Worker threads that run contracts; unset: one per core beyond the first, 1 to 4. */
  ADJUDICATION_WORKERS: z.coerce.number().int().min(1).max(64).optional(),
  /** A claim whose contract runs longer than this is pended for review (`contract-timeout`). */
  ADJUDICATION_TIMEOUT_MS: z.coerce.number().int().min(10).default(2000),
  /** Development and tests only: publish the demo contract, which pays claims that have no policy. */
  DEMO_CONTRACT: flag,
  LEDGER_URL: z.string().url().optional(),
  /** With NODE_ENV=production LEDGER_URL must be https unless this says the network itself is authenticated. */
  LEDGER_URL_ALLOW_HTTP: z.enum(['true', 'false']).default('false'),
  ...LEDGER_VERIFIER_KEY_VARIABLE,
};

export interface PayoutSettings {
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
   * Development and tests: the demo contract is published at start and adjudicates claims without a policy in
   * force. Off, such a claim is denied (CO-31 / CO-26 / CO-27); refused with NODE_ENV=production.
   */
  demoContract: boolean;
  /**
   * Contracts run on `workers` worker threads; a claim whose contract runs longer than `timeoutMs` is pended for
   * review and its thread replaced (ADR 17).
   */
  adjudication: { workers: number; timeoutMs: number };
  ledger: {
    /** ledger-anchoring's public read API, where payout fetches consistency proofs between checkpoints. */
    url: string;
    /** The ledger's current note verifier key (the first listed): the replay command's default. */
    verifierKey?: string;
    /**
     * Every key whose checkpoint signatures are accepted: the current one and, while a rotation is under way, the
     * ones before it.
     */
    verifierKeys: string[];
  };
}

export const PAYOUT_SETTINGS: AppSettings<typeof variables, PayoutSettings> = {
  variables,
  build: (e, env) => ({
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
    adjudication: {
      // The main thread keeps a core for HTTP, Kafka and Postgres: on 2 cores, one worker.
      workers: e.ADJUDICATION_WORKERS ?? Math.max(1, Math.min(4, availableParallelism() - 1)),
      timeoutMs: e.ADJUDICATION_TIMEOUT_MS,
    },
    ledger: {
      url: e.LEDGER_URL ?? `http://127.0.0.1:${SERVICES['ledger-anchoring'].port}`,
      ...ledgerVerifierKeysOf(e.LEDGER_VERIFIER_KEY),
    },
  }),
  refuseInProduction: (e) => {
    const problems: string[] = [];
    if (e.WEBHOOK_SECRET_KEY === DEV_WEBHOOK_SECRET_KEY)
      problems.push('WEBHOOK_SECRET_KEY is the published dev-only key');
    if (e.SIMULATED_BANK) problems.push('SIMULATED_BANK=true would settle money that never moved');
    if (e.DEMO_CONTRACT) problems.push('DEMO_CONTRACT=true would pay claims without a policy');
    if (!e.LEDGER_URL?.startsWith('https://') && e.LEDGER_URL_ALLOW_HTTP !== 'true') {
      // Proofs verify themselves, but one fetched over plain http can be replaced on the way: payments then wait.
      problems.push('LEDGER_URL must be an https:// URL (or set LEDGER_URL_ALLOW_HTTP=true behind an mTLS mesh)');
    }
    if (!e.LEDGER_VERIFIER_KEY) {
      problems.push("LEDGER_VERIFIER_KEY is not set: payout would pay without checking the ledger's signatures");
    }
    return problems;
  },
};

export type PayoutConfig = ReturnType<typeof loadPayoutConfig>;

/** payout's whole configuration: the shared settings and its own, validated together. */
export function loadPayoutConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadServiceConfig('payout', env, PAYOUT_SETTINGS);
}
