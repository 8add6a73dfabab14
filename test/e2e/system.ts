import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamicModule } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { v4 as uuidv4 } from 'uuid';
import { ServiceConfig, ServiceName, SERVICE_NAMES } from '@claimchain/config';
import { ensureDevKeys, Role, signDevToken } from '@claimchain/http';
import { generateNoteKey } from '@claimchain/ledger';
import { startHybridApp } from '@claimchain/runtime';
import { MetricsServer } from '@claimchain/observability';
import { fhirClaim, fhirClaimTreatments, waitFor } from '@claimchain/testing';
import { ClaimIntakeModule } from '../../apps/claim-intake/src/app.module';
import { TreatmentVerificationModule } from '../../apps/treatment-verification/src/app.module';
import { LedgerAnchoringModule } from '../../apps/ledger-anchoring/src/app.module';
import { PayoutModule } from '../../apps/payout/src/app.module';
import { loadClaimIntakeConfig } from '../../apps/claim-intake/src/claim-intake.config';
import { loadTreatmentVerificationConfig } from '../../apps/treatment-verification/src/treatment-verification.config';
import { loadLedgerAnchoringConfig } from '../../apps/ledger-anchoring/src/ledger-anchoring.config';
import { loadPayoutConfig } from '../../apps/payout/src/payout.config';

/** Each service's configuration and root module, as its main.ts builds them. */
const SERVICE_MODULES: Record<
  ServiceName,
  (env: NodeJS.ProcessEnv) => { config: ServiceConfig; module: DynamicModule }
> = {
  'claim-intake': (env) => {
    const config = loadClaimIntakeConfig(env);
    return { config, module: ClaimIntakeModule.forRoot(config) };
  },
  'treatment-verification': (env) => {
    const config = loadTreatmentVerificationConfig(env);
    return { config, module: TreatmentVerificationModule.forRoot(config) };
  },
  'ledger-anchoring': (env) => {
    const config = loadLedgerAnchoringConfig(env);
    return { config, module: LedgerAnchoringModule.forRoot(config) };
  },
  payout: (env) => {
    const config = loadPayoutConfig(env);
    return { config, module: PayoutModule.forRoot(config) };
  },
};

export interface RunningSystem {
  url(service: ServiceName, path: string): string;
  /** Where the service's Prometheus metrics are (its metrics port, not the public one). */
  metricsUrl(service: ServiceName): string;
  app(service: ServiceName): NestFastifyApplication;
  /** A bearer header from the system's identity provider. */
  as(role: Role, tenant: string): Promise<{ authorization: string }>;
  /** The dev identity provider's private key file, for forging-style tests. */
  authKeyFile: string;
  stop(): Promise<void>;
}

/**
 * Starts the four services (or the ones named) in this process against the test broker and databases (jest's global setup), each on a
 * free port, with their own ledger signing key and identity provider. Consumer groups are fresh per run.
 */
export async function startSystem(
  options: {
    services?: ServiceName[];
    env?: Record<string, string>;
    /** Wait for every pipeline to be up (default); false returns as soon as their HTTP answers. */
    waitForPipeline?: boolean;
  } = {},
): Promise<RunningSystem> {
  const services = options.services ?? SERVICE_NAMES;
  const keyDir = mkdtempSync(join(tmpdir(), 'claimchain-e2e-'));
  // The run's ledger key (jest's global setup) when there is one, else a key of this system's own.
  const origin = process.env.LEDGER_ORIGIN ?? 'claimchain.e2e/ledger';
  let signingKeyFile = process.env.LEDGER_SIGNING_KEY_FILE;
  let verifierKey = process.env.LEDGER_VERIFIER_KEY;
  if (!signingKeyFile || !verifierKey) {
    const ledgerKey = generateNoteKey(origin);
    signingKeyFile = join(keyDir, 'signing.key');
    writeFileSync(signingKeyFile, ledgerKey.signerKey, { mode: 0o600 });
    verifierKey = ledgerKey.verifierKey;
  }
  const authKeyFile = join(keyDir, 'auth.jwk');
  await ensureDevKeys(authKeyFile, join(keyDir, 'jwks.json'));
  const env = {
    ...process.env,
    PORT: '0',
    METRICS_PORT: '0',
    KAFKA_GROUP_PREFIX: `e2e-${uuidv4()}`,
    LEDGER_ORIGIN: origin,
    LEDGER_SIGNING_KEY_FILE: signingKeyFile,
    LEDGER_VERIFIER_KEY: verifierKey,
    AUTH_JWKS_FILE: join(keyDir, 'jwks.json'),
    LEDGER_CHECKPOINT_INTERVAL_MS: '100',
    LOG_LEVEL: 'warn',
    // As `npm start` runs it: the demo contract and the simulated bank (a test asks for production's behaviour).
    PAYOUT_DEMO_CONTRACT: 'true',
    PAYOUT_SIMULATED_BANK: 'true',
    ...options.env,
  };
  const apps = new Map<ServiceName, NestFastifyApplication>();
  const bases = new Map<ServiceName, string>();
  const url = (service: ServiceName, path: string) => `${bases.get(service)}${path}`;
  for (const service of services) {
    // Payout asks the ledger for consistency proofs: point it at this system's ledger when it runs one.
    const ledger = bases.get('ledger-anchoring');
    const { config, module } = SERVICE_MODULES[service](
      ledger && !options.env?.LEDGER_URL ? { ...env, LEDGER_URL: ledger } : env,
    );
    const app = await startHybridApp(module, config);
    apps.set(service, app);
    bases.set(service, await app.getUrl());
  }
  for (const service of options.waitForPipeline === false ? [] : services) {
    await waitFor(`${service} to be ready`, async () => (await fetch(url(service, '/health/pipeline'))).ok, {
      timeoutMs: 60_000,
    });
  }
  return {
    url,
    metricsUrl: (service) => apps.get(service)!.get(MetricsServer).url!,
    app: (service) => apps.get(service)!,
    as: async (role, tenant) => ({ authorization: `Bearer ${await signDevToken(authKeyFile, { role, tenant })}` }),
    authKeyFile,
    stop: async () => {
      for (const app of [...apps.values()].reverse()) await app.close();
    },
  };
}

/** A fresh Idempotency-Key header, as a client generates one per create request. */
export function newKey(): { 'idempotency-key': string } {
  return { 'idempotency-key': uuidv4() };
}

export { CPT, fhirClaim, fhirClaimTreatments } from '@claimchain/testing';

/**
 * Submits the fixture claim of `tenant` on `Coverage/<coverage>`, has its provider confirm exactly what it claims,
 * and waits until claim-intake shows it `until`. Returns the claim's id.
 */
export async function claimOnCoverage(
  system: RunningSystem,
  tenant: string,
  coverage: string,
  until: string,
): Promise<string> {
  const insurer = await system.as('insurer', tenant);
  const claim = fhirClaim(`p-${uuidv4()}`, tenant);
  claim.insurance = [{ sequence: 1, focal: true, coverage: { reference: `Coverage/${coverage}` } }];
  const submitted = await fetch(system.url('claim-intake', '/v1/claims'), {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json', ...insurer, ...newKey() },
    body: JSON.stringify(claim),
  });
  if (submitted.status !== 202) throw new Error(`claim not accepted: ${submitted.status} ${await submitted.text()}`);
  const { id } = (await submitted.json()) as { id: string };
  const confirmed = await fetch(system.url('treatment-verification', '/v1/confirmations'), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(await system.as('provider', 'clinic-e2e')),
      ...newKey(),
    },
    body: JSON.stringify({ claimId: id, performed: fhirClaimTreatments() }),
  });
  if (![201, 202].includes(confirmed.status)) throw new Error(`confirmation refused: ${confirmed.status}`);
  await waitFor(
    `claim ${id} to be ${until}`,
    async () => {
      const res = await fetch(system.url('claim-intake', `/v1/claims/${id}`), { headers: insurer });
      return ((await res.json()) as { status: string }).status === until;
    },
    { timeoutMs: 60_000 },
  );
  return id;
}
