/**
 * Benchmark of `POST /v1/claims` with its durable write (claim, lines, timeline, outbox and idempotency rows in one
 * committed transaction): `npm run bench:claims`. Starts its own broker (127.0.0.1:29092) and `claimchain_bench_*`
 * databases, runs claim-intake as a separate process, and drives it from this process with autocannon over
 * loopback: first flat out (accepted claims/s), then at a fixed 1,000 claims/s (p50/p99 latency). Every request is
 * a distinct claim (its own patient and Idempotency-Key), so none is answered from the idempotency cache or refused
 * as a duplicate. Bounded: two runs of BENCH_SECONDS (default 15) each. BENCH_CPU_PROFILE=<dir> writes claim-intake's
 * V8 CPU profile there (open it in Chrome DevTools or speedscope). BENCH_INSTANCES=<n> runs n claim-intake processes
 * on the one port (node:cluster), as n replicas would. BENCH_CONNECTIONS=<n> sets the flat-out run's connections (64).
 */
import autocannon from 'autocannon';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DEFAULT_DATABASE_URL } from '@claimchain/config';
import { topicSpecs } from '@claimchain/wire';
import { ensureDevKeys, signDevToken } from '@claimchain/http';
import { ensureKafkaBroker } from '../scripts/infra/kafka-broker';
import { cachePath, repoRoot } from '../scripts/infra/paths';
import { dropDatabases, ensureDatabases, serviceDatabaseNames } from '../scripts/infra/postgres';
import { startService, waitForHttp200 } from '../scripts/infra/service-process';
import { ensureTopics } from '../scripts/infra/topics';
import { migrateAll } from '../scripts/migrate';
import { cpuSnapshot, describeCpu, groupByRole } from './cpu-usage';
import { ensureEventKeys } from '../scripts/infra/event-keys';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 1);
const FLAT_OUT_CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const PORT = 3101;
const PREFIX = 'claimchain_bench';

function claimBody(n: number): string {
  return JSON.stringify({
    resourceType: 'Claim',
    status: 'active',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'professional' }] },
    use: 'claim',
    patient: { reference: `Patient/bench-${n}-${randomUUID()}` },
    created: '2026-11-20',
    insurer: { reference: 'Organization/bench-insurer' },
    provider: { reference: 'Organization/bench-clinic' },
    priority: { coding: [{ code: 'normal' }] },
    insurance: [{ sequence: 1, focal: true, coverage: { reference: 'Coverage/bench-policy' } }],
    item: [
      {
        sequence: 1,
        productOrService: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '99213' }] },
        servicedDate: '2026-11-20',
        quantity: { value: 1 },
        unitPrice: { value: 120.0, currency: 'EUR' },
        net: { value: 120.0, currency: 'EUR' },
      },
    ],
    total: { value: 120.0, currency: 'EUR' },
  });
}

async function run(opts: { token: string; connections: number; overallRate?: number }): Promise<autocannon.Result> {
  let n = 0;
  return autocannon({
    url: `http://127.0.0.1:${PORT}/v1/claims`,
    method: 'POST',
    connections: opts.connections,
    duration: SECONDS,
    overallRate: opts.overallRate,
    headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${opts.token}` },
    requests: [
      {
        setupRequest: (req) => ({
          ...req,
          body: claimBody((n += 1)),
          headers: { ...req.headers, 'idempotency-key': randomUUID() },
        }),
      },
    ],
  });
}

function report(name: string, r: autocannon.Result): void {
  const accepted = r['2xx'];
  console.log(
    `${name}: ${(accepted / r.duration).toFixed(0)} claims/s accepted (${accepted} in ${r.duration.toFixed(1)} s), ` +
      `latency p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms; ` +
      `non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}`,
  );
}

async function main(): Promise<void> {
  const baseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const broker = await ensureKafkaBroker({
    port: 29092,
    controllerPort: 29093,
    dataDir: cachePath('kafka-bench', 'data'),
    cacheDir: cachePath('kafka'),
    fresh: true,
  });
  const keyDir = mkdtempSync(join(tmpdir(), 'claimchain-bench-'));
  let service: ReturnType<typeof startService> | undefined;
  try {
    await ensureTopics(broker.brokers, topicSpecs());
    const databases = serviceDatabaseNames(baseUrl, PREFIX);
    await dropDatabases(baseUrl, databases);
    await ensureDatabases(baseUrl, databases);
    await migrateAll(baseUrl, PREFIX);
    await ensureDevKeys(join(keyDir, 'auth.jwk'), join(keyDir, 'jwks.json'));
    const eventKeys = ensureEventKeys(join(keyDir, 'events'));
    const token = await signDevToken(join(keyDir, 'auth.jwk'), { role: 'insurer', tenant: 'bench-insurer' });
    service = startService({
      name: 'claim-intake',
      label: '[claim-intake]',
      command: process.execPath,
      args: [
        ...(process.env.BENCH_CPU_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROFILE] : []),
        // BENCH_INSTANCES > 1: that many claim-intake processes on one port, as replicas would be.
        ...(INSTANCES > 1 ? [join(repoRoot(), 'dist/bench/cluster.main.js'), String(INSTANCES)] : []),
        join(repoRoot(), 'dist/apps/claim-intake/src/main.js'),
      ],
      cwd: repoRoot(),
      env: {
        ...process.env,
        PORT: String(PORT),
        DATABASE_URL: baseUrl,
        DATABASE_PREFIX: PREFIX,
        KAFKA_BROKERS: broker.brokers.join(','),
        AUTH_JWKS_FILE: join(keyDir, 'jwks.json'),
        EVENT_SIGNING_KEY_FILE: eventKeys.files['claim-intake'],
        EVENT_VERIFIER_KEYS: eventKeys.verifierKeys,
        RATE_LIMIT_PER_SECOND: '1000000',
        LOG_LEVEL: 'warn',
      },
    });
    const problem = await waitForHttp200(`http://127.0.0.1:${PORT}/health/pipeline`, Date.now() + 60_000, () =>
      Boolean(service!.child.exitCode !== null),
    );
    if (problem) throw new Error(`claim-intake did not become ready: ${problem}`);
    await run({ token, connections: 8 }); // warm-up: JIT, connection pools
    const servicePid = service.child.pid;
    const groupOf = groupByRole({ 'claim-intake': servicePid, 'load generator': process.pid });
    for (const [name, opts] of [
      [`flat out (${FLAT_OUT_CONNECTIONS} connections)`, { token, connections: FLAT_OUT_CONNECTIONS }],
      ['fixed 1,000 claims/s', { token, connections: 64, overallRate: 1000 }],
    ] as const) {
      const before = cpuSnapshot(groupOf);
      const result = await run(opts);
      report(name, result);
      console.log(`  ${describeCpu(before, cpuSnapshot(groupOf), result.duration, result['2xx'])}`);
    }
  } finally {
    await service?.stop();
    await broker.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
