/**
 * The whole system for the end-to-end bench and the chaos run, brought up as `npm start` does it, from the launcher's
 * own infra functions, but on ports and databases of its own (a profile) so it runs beside `npm start`, `npm test`
 * and the other profile: a fresh broker, databases dropped and migrated anew, a ledger signing key and dev identity
 * provider in a temp dir, and the four built services as separate processes (n processes each with BENCH_INSTANCES,
 * sharing the port through node:cluster and the Kafka partitions through their consumer group). The bench's profile
 * is 127.0.0.1:39092, `claimchain_e2e_*`, 3201–3204. The chaos run has its services supervised (restarted when they
 * die, as `npm start` and Kubernetes do) and kills and restarts the broker through `broker`.
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync, WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICE_NAMES, ServiceName } from '@claimchain/config';
import { topicSpecs } from '@claimchain/wire';
import { ensureDevKeys, signDevToken } from '@claimchain/http';
import { parseSignerKey } from '@claimchain/ledger';
import { ensureKafkaBroker, KafkaBrokerHandle } from '../../scripts/infra/kafka-broker';
import { cachePath, repoRoot } from '../../scripts/infra/paths';
import { dropDatabases, ensureDatabases, serviceDatabaseNames } from '../../scripts/infra/postgres';
import {
  label,
  ServiceProcess,
  startService,
  superviseService,
  waitForHttp200,
} from '../../scripts/infra/service-process';
import { ensureSigningKey } from '../../scripts/infra/signing-key';
import { ensureEventKeys } from '../../scripts/infra/event-keys';
import { ensureTopics } from '../../scripts/infra/topics';
import { migrateAll } from '../../scripts/migrate';

/** A service's metrics port in a profile: its HTTP port plus this. */
const METRICS_PORT_OFFSET = 6000;

/** Where one kind of run lives: its broker, databases and ports, so a bench and a chaos run can coexist. */
export interface StackProfile {
  name: string;
  /** Databases are `<prefix>_<service>`. */
  prefix: string;
  kafkaPort: number;
  ports: Record<ServiceName, number>;
  /** The broker's state directory under `.cache/`. */
  brokerState: string;
  ledgerOrigin: string;
}

export const E2E_PROFILE: StackProfile = {
  name: 'e2e-bench',
  prefix: 'claimchain_e2e',
  kafkaPort: 39092,
  ports: { 'claim-intake': 3201, 'treatment-verification': 3202, 'ledger-anchoring': 3203, payout: 3204 },
  brokerState: 'kafka-e2e',
  ledgerOrigin: 'claimchain.bench/ledger',
};
export const E2E_PREFIX = E2E_PROFILE.prefix;

export const CHAOS_PROFILE: StackProfile = {
  name: 'chaos',
  prefix: 'claimchain_chaos',
  kafkaPort: 49092,
  ports: { 'claim-intake': 3301, 'treatment-verification': 3302, 'ledger-anchoring': 3303, payout: 3304 },
  brokerState: 'kafka-chaos',
  ledgerOrigin: 'claimchain.chaos/ledger',
};
const READY_TIMEOUT_MS = 120_000;

export interface StackOptions {
  databaseUrl: string;
  instances: number;
  /** The bench's unless given. */
  profile?: StackProfile;
  /**
   * Restart a service whenever it dies (1 s, doubling while it keeps dying), as `npm start` does, and tell this
   * callback; without it a service that dies stays dead and `died()` names it.
   */
  onRestart?: (service: ServiceName, reason: string, restartInMs: number) => void;
  /** Services' output to `<logDir>/services.log` and each broker start's to `<logDir>/broker-<n>.log`. */
  logDir?: string;
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
  /** Sends a signal to the process group of a service's current process (all of its cluster workers). */
  signal(service: ServiceName, signal: NodeJS.Signals): void;
  /** When each service's current process was started (ms since the epoch). */
  startedAt(service: ServiceName): number;
  /** The ledger's verifier key (what `npm run audit:ledger` checks checkpoints with). */
  verifierKey: string;
  broker: {
    /** kill -9 of the broker's JVM; resolves once it is gone. */
    kill(): Promise<void>;
    /** Starts it again on its data (not fresh); resolves once it answers. */
    start(): Promise<void>;
  };
  stop(): Promise<void>;
}

/** Everything started so far, for the Ctrl-C and exit handlers: a half-built stack is torn down too. */
interface Running {
  readonly current: ServiceProcess;
  stop(): Promise<void>;
}
const started: {
  services: Running[];
  broker?: KafkaBrokerHandle;
  brokerState?: string;
  dirs: string[];
  logs: WriteStream[];
} = { services: [], dirs: [], logs: [] };

export async function stopEverything(): Promise<void> {
  const services = started.services.splice(0);
  await Promise.all(services.map((s) => s.stop()));
  const broker = started.broker;
  started.broker = undefined;
  await broker?.stop();
  for (const dir of started.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  for (const log of started.logs.splice(0)) log.end();
}

/**
 * A run's way out: `shutdown(code)` stops the services and the broker once (after `beforeStop`), then exits; Ctrl-C
 * does it (a second Ctrl-C kills everything at once), so does SIGTERM, and whatever is left at exit is SIGKILLed.
 */
export function installShutdown(opts: {
  say: (msg: string) => void;
  beforeStop: () => void;
  onInterrupt: () => void;
}): (code: number) => Promise<void> {
  let shuttingDown: Promise<void> | undefined;
  const shutdown = (code: number) =>
    (shuttingDown ??= (async () => {
      opts.beforeStop();
      opts.say('stopping services and broker…');
      await stopEverything().catch((error: unknown) => console.error(error));
      process.exit(code);
    })());
  process.on('SIGINT', () => {
    if (shuttingDown) {
      killEverythingNow();
      process.exit(130);
    }
    opts.onInterrupt();
    opts.say('interrupted');
    void shutdown(130);
  });
  process.on('SIGTERM', () => void shutdown(143));
  process.on('exit', () => killEverythingNow());
  return shutdown;
}

/** Last resort on process exit: SIGKILL whatever is still running (stop() could not be awaited). */
export function killEverythingNow(): void {
  for (const { current: s } of started.services) {
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

/** ensureKafkaBroker records its JVM's pid beside the data directory. */
function readBrokerPid(): number | undefined {
  if (!started.brokerState) return undefined;
  try {
    return Number(readFileSync(cachePath(started.brokerState, 'broker.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const { databaseUrl, log } = opts;
  const profile = opts.profile ?? E2E_PROFILE;
  const PORTS = profile.ports;
  const LEDGER_ORIGIN = profile.ledgerOrigin;
  started.brokerState = profile.brokerState;
  let brokerStarts = 0;
  const startBroker = async (fresh: boolean) => {
    brokerStarts += 1;
    started.broker = await ensureKafkaBroker({
      port: profile.kafkaPort,
      controllerPort: profile.kafkaPort + 1,
      dataDir: cachePath(profile.brokerState, 'data'),
      cacheDir: cachePath('kafka'),
      ...(opts.logDir && { logFile: join(opts.logDir, `broker-${brokerStarts}.log`) }),
      fresh,
      log,
    });
    return started.broker;
  };
  const broker = await startBroker(true);
  await ensureTopics(broker.brokers, topicSpecs(), log);

  const names = serviceDatabaseNames(databaseUrl, profile.prefix);
  await dropDatabases(databaseUrl, names);
  await ensureDatabases(databaseUrl, names);
  await migrateAll(databaseUrl, profile.prefix);
  log(`databases ${names.join(', ')} created fresh and migrated`);

  const dir = mkdtempSync(join(tmpdir(), `claimchain-${profile.name}-`));
  started.dirs.push(dir);
  const signingKeyFile = join(dir, 'ledger-signing.key');
  ensureSigningKey(signingKeyFile, LEDGER_ORIGIN);
  const eventKeys = ensureEventKeys(join(dir, 'events'));
  const authKeyFile = join(dir, 'auth.jwk');
  const jwksFile = join(dir, 'jwks.json');
  await ensureDevKeys(authKeyFile, jwksFile);

  const verifierKey = parseSignerKey(readFileSync(signingKeyFile, 'utf8').trim()).verifierKey;
  const shared: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    DATABASE_PREFIX: profile.prefix,
    KAFKA_BROKERS: broker.brokers.join(','),
    LEDGER_ORIGIN,
    LEDGER_VERIFIER_KEY: verifierKey,
    EVENT_VERIFIER_KEYS: eventKeys.verifierKeys,
    LEDGER_URL: `http://127.0.0.1:${PORTS['ledger-anchoring']}`,
    AUTH_JWKS_FILE: jwksFile,
    // The load comes from a handful of principals: the per-principal limit would be the first thing measured.
    RATE_LIMIT_PER_SECOND: '10000000',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    // kafkajs' notice about its v2 partitioner, once per producer: noise in the bench's output.
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    // The bench's insurers enrol no policies and register no webhooks: the development contract and bank pay them.
    PAYOUT_DEMO_CONTRACT: 'true',
    PAYOUT_SIMULATED_BANK: 'true',
    ...opts.env,
  };
  delete shared.PORT;
  delete shared.METRICS_PORT;
  delete shared.LEDGER_SIGNING_KEY_FILE;
  delete shared.KAFKA_GROUP_PREFIX;

  const width = Math.max(...SERVICE_NAMES.map((n) => n.length));
  const output = opts.logDir ? createWriteStream(join(opts.logDir, 'services.log'), { flags: 'a' }) : undefined;
  if (output) started.logs.push(output);
  const services = new Map<ServiceName, Running>();
  const startedAt = new Map<ServiceName, number>();
  for (const [index, name] of SERVICE_NAMES.entries()) {
    const main = join(repoRoot(), 'dist', 'apps', name, 'src', 'main.js');
    const start = () => {
      startedAt.set(name, Date.now());
      return startProcess(index, name, main);
    };
    const service: Running = opts.onRestart
      ? superviseService(start, (reason, restartInMs) => opts.onRestart!(name, reason, restartInMs))
      : { current: start(), stop: () => service.current.stop() };
    services.set(name, service);
    started.services.push(service);
  }
  function startProcess(index: number, name: ServiceName, main: string): ServiceProcess {
    return startService({
      name,
      // A file takes no colours: the time of each line is the service's own.
      label: output ? `[${name}]`.padEnd(width + 2) : label(name, index, width),
      ...(output && { output: { stdout: output, stderr: output } }),
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
        // The profile's own metrics ports (9201-9204, 9301-9304), beside npm start's 9464-9467.
        METRICS_PORT: String(PORTS[name] + METRICS_PORT_OFFSET),
        ...(name === 'ledger-anchoring' && { LEDGER_SIGNING_KEY_FILE: signingKeyFile }),
        EVENT_SIGNING_KEY_FILE: eventKeys.files[name],
      },
    });
  }
  let exitedOnItsOwn: string | undefined;
  let stopping = false;
  if (!opts.onRestart) {
    for (const [name, s] of services) {
      void s.current.exited.then((reason) => {
        if (!stopping) exitedOnItsOwn ??= `${name} ${reason}`;
      });
    }
  }

  const url = (service: ServiceName, path: string) => `http://127.0.0.1:${PORTS[service]}${path}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const problems = (
    await Promise.all(
      [...services].map(async ([name, s]) => {
        const problem = await waitForHttp200(url(name, '/health/pipeline'), deadline, () =>
          Boolean(s.current.child.exitCode !== null || s.current.child.signalCode),
        );
        return problem && `${name}: ${problem}`;
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
      services: Object.fromEntries([...services].map(([n, s]) => [n, s.current.child.pid])) as Record<
        ServiceName,
        number | undefined
      >,
      broker: started.broker?.startedHere ? readBrokerPid() : undefined,
    }),
    died: () => exitedOnItsOwn,
    signal: (service, signal) => {
      const pid = services.get(service)!.current.child.pid;
      try {
        if (pid) process.kill(-pid, signal);
      } catch {
        // already gone: the supervisor is restarting it
      }
    },
    startedAt: (service) => startedAt.get(service)!,
    verifierKey,
    broker: {
      kill: async () => {
        const pid = readBrokerPid();
        if (!pid || !started.broker?.startedHere) throw new Error('no broker of ours to kill');
        process.kill(-pid, 'SIGKILL');
        // Its handle sees the exit and removes the pidfile; a second stop() is then a no-op.
        await started.broker.stop();
      },
      start: async () => {
        await startBroker(false);
      },
    },
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
