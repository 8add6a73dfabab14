/**
 * `npm start`: brings up everything claimchain needs on one machine and then the four services.
 * Kafka broker (unless KAFKA_BROKERS names one) → topics → databases → migrations → ledger signing key → services,
 * each service's output prefixed with its name, until Ctrl-C. `--infra-only` stops before the services and holds
 * the broker; `--migrate-only` creates and migrates the databases and exits.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_DATABASE_URL,
  DEFAULT_KAFKA_BROKERS,
  SERVICE_NAMES,
  ServiceName,
  loadServiceConfig,
} from '@claimchain/config';
import { topicSpecs } from '@claimchain/wire';
import { KafkaBrokerHandle, ensureKafkaBroker } from './infra/kafka-broker';
import { cachePath, repoRoot } from './infra/paths';
import { ensureDatabases, redactUrl, serviceDatabaseNames } from './infra/postgres';
import {
  SupervisedService,
  label,
  startService,
  superviseService,
  useColour,
  waitForHttp200,
} from './infra/service-process';
import { readFileSync } from 'node:fs';
import { ensureSigningKey } from './infra/signing-key';
import { ensureEventKeys } from './infra/event-keys';
import { DEV_AUTH_KEY_FILE, DEV_JWKS_FILE } from './infra/paths';
import { ensureDevKeys } from '@claimchain/http';
import { parseSignerKey } from '@claimchain/ledger';
import { ensureTopics } from './infra/topics';
import { migrateAll } from './migrate';

const LEDGER_SERVICE: ServiceName = 'ledger-anchoring';
const DEFAULT_LEDGER_ORIGIN = 'claimchain.local/ledger';
const READY_TIMEOUT_MS = 90_000;
const USAGE = 'usage: launcher [--infra-only | --migrate-only]';

const LABEL = label('launcher', 4, 'launcher'.length);
const say = (msg: string) => process.stdout.write(`${LABEL} ${msg}\n`);
/** For what must not scroll by unnoticed: a service that died. */
const shout = (msg: string) => {
  const text = `!!! ${msg} !!!`;
  process.stderr.write(`\n${LABEL} ${useColour() ? `\x1b[1;41;97m${text}\x1b[0m` : text}\n\n`);
};

let broker: KafkaBrokerHandle | undefined;
const services: SupervisedService[] = [];
let shuttingDown = false;

async function shutdown(code: number): Promise<never> {
  if (!shuttingDown) {
    shuttingDown = true;
    if (services.length > 0) say('stopping services…');
    await Promise.all(services.map((s) => s.stop()));
    if (broker?.startedHere) say('stopping the Kafka broker…');
    await broker?.stop();
    process.exit(code);
  }
  return new Promise<never>(() => undefined);
}

function onSignal(signal: NodeJS.Signals) {
  if (shuttingDown) {
    say(`${signal} again: killing everything now`);
    for (const s of services) if (s.current.child.pid) tryKill(-s.current.child.pid, 'SIGKILL');
    process.exit(1);
  }
  say(`${signal} received`);
  void shutdown(0);
}

function tryKill(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const infraOnly = args.includes('--infra-only');
  const migrateOnly = args.includes('--migrate-only');
  const unknown = args.filter((a) => a !== '--infra-only' && a !== '--migrate-only');
  if (unknown.length > 0 || (infraOnly && migrateOnly)) throw new Error(USAGE);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Services run in their own process groups; should this process die some other way, do not leave them behind.
  process.on('exit', () => {
    for (const { current } of services) {
      if (current.child.pid && current.child.exitCode === null) tryKill(-current.child.pid, 'SIGTERM');
    }
  });
  const started = Date.now();

  const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const databasePrefix = process.env.DATABASE_PREFIX ?? 'claimchain';

  if (!migrateOnly) {
    if (process.env.KAFKA_BROKERS) {
      broker = {
        brokers: process.env.KAFKA_BROKERS.split(',').map((b) => b.trim()),
        startedHere: false,
        stop: async () => undefined,
      };
      say(`using the Kafka cluster from KAFKA_BROKERS: ${broker.brokers.join(',')}`);
    } else {
      const port = Number(new URL(`kafka://${DEFAULT_KAFKA_BROKERS}`).port);
      broker = await ensureKafkaBroker({
        port,
        controllerPort: port + 1,
        dataDir: cachePath('kafka', 'data'),
        cacheDir: cachePath('kafka'),
        logFile: cachePath('kafka', 'broker.log'),
        log: say,
      });
    }
    await ensureTopics(broker.brokers, topicSpecs(), say);
  }

  const databases = serviceDatabaseNames(databaseUrl, databasePrefix);
  const created = await ensureDatabases(databaseUrl, databases);
  if (created.length > 0) say(`created databases ${created.join(', ')}`);
  await migrateAll(databaseUrl, databasePrefix);
  say(`databases ${databases.join(', ')} migrated`);
  if (migrateOnly) return shutdown(0);

  const ledgerOrigin = process.env.LEDGER_ORIGIN ?? DEFAULT_LEDGER_ORIGIN;
  const signingKeyFile = process.env.LEDGER_SIGNING_KEY_FILE ?? cachePath('ledger', 'signing.key');
  if (ensureSigningKey(signingKeyFile, ledgerOrigin)) say(`created ledger signing key ${signingKeyFile}`);
  // Each service signs its events with a key of its own (ADR 18).
  const eventKeys = ensureEventKeys(cachePath('events'));
  if (eventKeys.created.length > 0) say(`created event signing keys for ${eventKeys.created.join(', ')}`);
  // The local identity provider: unless AUTH_JWKS_URL/AUTH_JWKS_FILE name a real one, services trust a dev key
  // pair, and `npm run token` signs bearer tokens with it.
  const jwksFile = process.env.AUTH_JWKS_FILE ?? DEV_JWKS_FILE;
  if (!process.env.AUTH_JWKS_URL && !process.env.AUTH_JWKS_FILE) {
    if (await ensureDevKeys(DEV_AUTH_KEY_FILE, DEV_JWKS_FILE))
      say(`created dev token signing key ${DEV_AUTH_KEY_FILE}`);
  }

  if (infraOnly) {
    printTable([
      ['Kafka', broker!.brokers.join(',')],
      ['Postgres', `${redactUrl(databaseUrl)} (databases ${databasePrefix}_*)`],
      ['Ledger key', signingKeyFile],
      ['Token JWKS', process.env.AUTH_JWKS_URL ?? jwksFile],
    ]);
    say(`infrastructure is up in ${((Date.now() - started) / 1000).toFixed(1)} s; Ctrl-C stops it`);
    return untilSignalled();
  }

  const shared: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    DATABASE_PREFIX: databasePrefix,
    KAFKA_BROKERS: broker!.brokers.join(','),
    LEDGER_ORIGIN: ledgerOrigin,
    // Public: printed into claim receipts so their holder knows which key to verify them with.
    LEDGER_VERIFIER_KEY: parseSignerKey(readFileSync(signingKeyFile, 'utf8').trim()).verifierKey,
    EVENT_VERIFIER_KEYS: process.env.EVENT_VERIFIER_KEYS ?? eventKeys.verifierKeys,
    ...(!process.env.AUTH_JWKS_URL && { AUTH_JWKS_FILE: jwksFile }),
    // Development: claims without a policy are paid by the demo contract, insurers without a webhook by a simulated
    // bank (both refused with NODE_ENV=production). Set them to false to see what production does.
    SIMULATED_BANK: process.env.SIMULATED_BANK ?? 'true',
    DEMO_CONTRACT: process.env.DEMO_CONTRACT ?? 'true',
  };
  // People read npm start's output: Nest's readable lines under each service's label (in colour when this terminal
  // takes it), unless LOG_FORMAT asks for JSON. A service on its own writes JSON lines when not on a terminal.
  shared.LOG_FORMAT ??= 'text';
  if (useColour()) shared.FORCE_COLOR ??= '1';
  // A bare PORT (or METRICS_PORT) would give all four services the same port; <SERVICE>_PORT still overrides.
  delete shared.PORT;
  delete shared.METRICS_PORT;
  delete shared.LEDGER_SIGNING_KEY_FILE;

  const width = Math.max(...SERVICE_NAMES.map((n) => n.length));
  const urls = new Map<ServiceName, string>();
  const metricsUrls = new Map<ServiceName, string>();
  for (const [index, name] of SERVICE_NAMES.entries()) {
    const config = loadServiceConfig(name, shared);
    const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
    urls.set(name, `http://${host}:${config.port}`);
    metricsUrls.set(name, `http://${host}:${config.metricsPort}/metrics`);
    // A service that dies is restarted (with backoff while it keeps dying), as its Deployment would restart it on
    // Kubernetes: the others keep running, and what it had in flight is picked up again from Kafka and its outbox.
    const service = superviseService(
      () =>
        startService({
          name,
          label: label(name, index, width),
          command: process.execPath,
          args: [serviceEntry(name)],
          cwd: repoRoot(),
          // The signing key is a secret: only the service that signs checkpoints is told where it is.
          env: {
            ...shared,
            PORT: String(config.port),
            METRICS_PORT: String(config.metricsPort),
            ...(name === LEDGER_SERVICE && { LEDGER_SIGNING_KEY_FILE: signingKeyFile }),
            // Likewise each service's event signing key: its own only (a <SERVICE>_EVENT_SIGNING_KEY_FILE still wins).
            EVENT_SIGNING_KEY_FILE: eventKeys.files[name],
          },
        }),
      (reason, delayMs, restarts) => {
        if (!shuttingDown) shout(`${name} ${reason}: restarting it in ${delayMs / 1000} s (restart ${restarts})`);
      },
    );
    services.push(service);
  }

  const deadline = Date.now() + READY_TIMEOUT_MS;
  const failures = (
    await Promise.all(
      services.map(async (s) => {
        // A service that dies while starting is restarted, so readiness waits for it until the deadline.
        const problem = await waitForHttp200(
          `${urls.get(s.name as ServiceName)}/health/pipeline`,
          deadline,
          () => false,
        );
        return problem ? `${s.name}: ${problem}` : undefined;
      }),
    )
  ).filter((f): f is string => f !== undefined);
  if (failures.length > 0) {
    say(`services not ready within ${READY_TIMEOUT_MS / 1000} s:\n  ${failures.join('\n  ')}`);
    return shutdown(1);
  }

  printTable([
    ...SERVICE_NAMES.map((n): [string, string] => [
      n,
      `${urls.get(n)}  (pipeline: ${urls.get(n)}/health/pipeline, metrics: ${metricsUrls.get(n)})`,
    ]),
    ['Kafka', broker!.brokers.join(',')],
    ['Postgres', `${redactUrl(databaseUrl)} (databases ${databasePrefix}_*)`],
  ]);
  say(`all services ready in ${((Date.now() - started) / 1000).toFixed(1)} s; Ctrl-C stops them`);
  return untilSignalled();
}

/** Keeps the process alive (even with no child of its own, e.g. a reused broker) until a signal handler exits. */
function untilSignalled(): Promise<never> {
  setInterval(() => undefined, 1 << 30);
  return new Promise<never>(() => undefined);
}

/** tsc keeps the source layout under dist/: apps/<name>/src/main.ts → dist/apps/<name>/src/main.js. */
function serviceEntry(name: ServiceName): string {
  const candidates = [join('dist', 'apps', name, 'src', 'main.js'), join('dist', 'apps', name, 'main.js')];
  const found = candidates.map((c) => join(repoRoot(), c)).find((c) => existsSync(c));
  if (!found) throw new Error(`${name} is not built (no ${candidates.join(' or ')}): run \`npm run build\``);
  return found;
}

function printTable(rows: [string, string][]) {
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(`\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n\n`);
}

main().catch(async (err: Error) => {
  process.stderr.write(`\n${LABEL} failed: ${err.message}\n`);
  await shutdown(1);
});
