/**
 * The whole system for the end-to-end bench, brought up as `npm start` does it, from the launcher's own infra
 * functions, but on ports and databases of its own so it runs beside `npm start` and `npm test`: a fresh broker on
 * 127.0.0.1:39092, `claimchain_e2e_*` databases dropped and migrated anew, a ledger signing key and dev identity
 * provider in a temp dir, and the four built services as separate processes on 3201–3204 (n processes each with
 * BENCH_INSTANCES, sharing the port through node:cluster and the Kafka partitions through their consumer group).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICE_NAMES, ServiceName } from '@claimchain/config';
import { topicSpecs } from '@claimchain/contracts';
import { ensureDevKeys, signDevToken } from '@claimchain/http';
import { parseSignerKey } from '@claimchain/ledger';
import { ensureKafkaBroker, KafkaBrokerHandle } from '../../scripts/infra/kafka-broker';
import { cachePath, repoRoot } from '../../scripts/infra/paths';
import { dropDatabases, ensureDatabases, serviceDatabaseNames } from '../../scripts/infra/postgres';
import { label, ServiceProcess, startService, waitForHttp200 } from '../../scripts/infra/service-process';
import { ensureSigningKey } from '../../scripts/infra/signing-key';
import { ensureTopics } from '../../scripts/infra/topics';
import { migrateAll } from '../../scripts/migrate';

export const E2E_PREFIX = 'claimchain_e2e';
export const KAFKA_PORT = 39092;
export const PORTS: Record<ServiceName, number> = {
  'claim-intake': 3201,
  'treatment-verification': 3202,
  'ledger-anchoring': 3203,
  payout: 3204,
};
const LEDGER_ORIGIN = 'claimchain.bench/ledger';
const READY_TIMEOUT_MS = 120_000;

export interface StackOptions {
  databaseUrl: string;
  instances: number;
  /** Extra environment for every service (e.g. LEDGER_CHECKPOINT_INTERVAL_MS to try a setting). */
  env?: Record<string, string>;
  log: (msg: string) => void;
}

export interface Stack {
  brokers: string[];
  databaseUrl: string;
  /** Database name per service. */
  databases: Record<ServiceName, string>;
  url(service: ServiceName, path: string): string;
  token(role: 'insurer' | 'provider' | 'ops', tenant: string): Promise<string>;
  /** The pid of each service's process (the cluster primary when BENCH_INSTANCES > 1) and of the broker's JVM. */
  pids(): { services: Record<ServiceName, number | undefined>; broker: number | undefined };
  /** A service that exited on its own, if any (the bench then stops: its figures would mean nothing). */
  died(): string | undefined;
  stop(): Promise<void>;
}

/** Everything started so far, for the Ctrl-C and exit handlers: a half-built stack is torn down too. */
const started: { services: ServiceProcess[]; broker?: KafkaBrokerHandle; dirs: string[] } = { services: [], dirs: [] };

export async function stopEverything(): Promise<void> {
  const services = started.services.splice(0);
  await Promise.all(services.map((s) => s.stop()));
  const broker = started.broker;
  started.broker = undefined;
  await broker?.stop();
  for (const dir of started.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Last resort on process exit: SIGKILL whatever is still running (stop() could not be awaited). */
export function killEverythingNow(): void {
  for (const s of started.services) {
    if (s.child.pid && s.child.exitCode === null && s.child.signalCode === null) {
      try {
        process.kill(-s.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  const brokerPid = readBrokerPid();
  if (started.broker?.startedHere && brokerPid) {
    try {
      process.kill(-brokerPid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function brokerDataDir(): string {
  return cachePath('kafka-e2e', 'data');
}

/** ensureKafkaBroker records its JVM's pid beside the data directory. */
function readBrokerPid(): number | undefined {
  try {
    return Number(readFileSync(cachePath('kafka-e2e', 'broker.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const { databaseUrl, log } = opts;
  const broker = await ensureKafkaBroker({
    port: KAFKA_PORT,
    controllerPort: KAFKA_PORT + 1,
    dataDir: brokerDataDir(),
    cacheDir: cachePath('kafka'),
    fresh: true,
    log,
  });
  started.broker = broker;
  await ensureTopics(broker.brokers, topicSpecs(), log);

  const names = serviceDatabaseNames(databaseUrl, E2E_PREFIX);
  await dropDatabases(databaseUrl, names);
  await ensureDatabases(databaseUrl, names);
  await migrateAll(databaseUrl, E2E_PREFIX);
  log(`databases ${names.join(', ')} created fresh and migrated`);

  const dir = mkdtempSync(join(tmpdir(), 'claimchain-e2e-bench-'));
  started.dirs.push(dir);
  const signingKeyFile = join(dir, 'ledger-signing.key');
  ensureSigningKey(signingKeyFile, LEDGER_ORIGIN);
  const authKeyFile = join(dir, 'auth.jwk');
  const jwksFile = join(dir, 'jwks.json');
  await ensureDevKeys(authKeyFile, jwksFile);

  const shared: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    DATABASE_PREFIX: E2E_PREFIX,
    KAFKA_BROKERS: broker.brokers.join(','),
    LEDGER_ORIGIN,
    LEDGER_VERIFIER_KEY: parseSignerKey(readFileSync(signingKeyFile, 'utf8').trim()).verifierKey,
    LEDGER_URL: `http://127.0.0.1:${PORTS['ledger-anchoring']}`,
    AUTH_JWKS_FILE: jwksFile,
    // The load comes from a handful of principals: the per-principal limit would be the first thing measured.
    RATE_LIMIT_PER_SECOND: '10000000',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    // kafkajs' notice about its v2 partitioner, once per producer: noise in the bench's output.
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    ...opts.env,
  };
  delete shared.PORT;
  delete shared.LEDGER_SIGNING_KEY_FILE;
  delete shared.KAFKA_GROUP_PREFIX;

  const width = Math.max(...SERVICE_NAMES.map((n) => n.length));
  const services = new Map<ServiceName, ServiceProcess>();
  for (const [index, name] of SERVICE_NAMES.entries()) {
    const main = join(repoRoot(), 'dist', 'apps', name, 'src', 'main.js');
    const service = startService({
      name,
      label: label(name, index, width),
      command: process.execPath,
      args: [
        // BENCH_CPU_PROFILE=<dir>: each service writes its V8 CPU profile there when it stops.
        ...(process.env.BENCH_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`] : []),
        // n processes on one port (node:cluster), each with its own Kafka consumer in the service's group.
        ...(opts.instances > 1 ? [join(repoRoot(), 'dist', 'bench', 'cluster.main.js'), String(opts.instances)] : []),
        main,
      ],
      cwd: repoRoot(),
      env: {
        ...shared,
        PORT: String(PORTS[name]),
        ...(name === 'ledger-anchoring' && { LEDGER_SIGNING_KEY_FILE: signingKeyFile }),
      },
    });
    services.set(name, service);
    started.services.push(service);
  }
  let exitedOnItsOwn: string | undefined;
  let stopping = false;
  for (const s of services.values()) {
    void s.exited.then((reason) => {
      if (!stopping) exitedOnItsOwn ??= `${s.name} ${reason}`;
    });
  }

  const url = (service: ServiceName, path: string) => `http://127.0.0.1:${PORTS[service]}${path}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const problems = (
    await Promise.all(
      [...services.values()].map(async (s) => {
        const problem = await waitForHttp200(url(s.name as ServiceName, '/health/pipeline'), deadline, () =>
          Boolean(s.child.exitCode !== null || s.child.signalCode),
        );
        return problem && `${s.name}: ${problem}`;
      }),
    )
  ).filter(Boolean);
  if (problems.length > 0)
    throw new Error(`services not ready in ${READY_TIMEOUT_MS / 1000} s: ${problems.join('; ')}`);

  return {
    brokers: broker.brokers,
    databaseUrl,
    databases: Object.fromEntries(SERVICE_NAMES.map((s, i) => [s, names[i]])) as Record<ServiceName, string>,
    url,
    token: (role, tenant) => signDevToken(authKeyFile, { role, tenant }),
    pids: () => ({
      services: Object.fromEntries([...services].map(([n, s]) => [n, s.child.pid])) as Record<
        ServiceName,
        number | undefined
      >,
      broker: broker.startedHere ? readBrokerPid() : undefined,
    }),
    died: () => exitedOnItsOwn,
    stop: async () => {
      stopping = true;
      await stopEverything();
    },
  };
}

/** A database URL on the same server as `base`, naming another database. */
export function databaseUrlOf(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}
