/**
 * A real single-node Kafka (KRaft, broker + controller in one JVM) for local runs and tests, built from Apache
 * Kafka's own Maven Central artifacts because Docker does not run on our machines. Owns: fetching the jars once
 * (deploy/local/kafka/pom.xml), formatting storage once, starting the JVM, waiting until it answers, stopping it.
 * A broker already listening on the port is reused rather than fought with.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { repoRoot } from './paths';
import { checkBrokerPrerequisites } from './preflight';
import { settlesWithin, sleep } from './timing';

export interface KafkaBrokerOptions {
  port: number;
  controllerPort: number;
  /** KRaft log directory. The broker's server.properties, pidfile and default log sit in its parent directory. */
  dataDir: string;
  /** Where the resolved jars are kept (`<cacheDir>/libs`); may be shared by several brokers. */
  cacheDir: string;
  logFile?: string;
  /** Wipe dataDir before starting (and replace a broker this code started earlier on the same config). */
  fresh?: boolean;
  log?: (msg: string) => void;
  /**
   * A second listener that requires SASL/PLAIN with these users (name → password), as production clusters require
   * authentication: the tests prove the clients' SASL settings against it.
   */
  sasl?: { port: number; users: Record<string, string> };
}

export interface KafkaBrokerHandle {
  brokers: string[];
  /** False when an already-running broker was reused: stop() then leaves it alone. */
  startedHere: boolean;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const POM_FILE = 'deploy/local/kafka/pom.xml';
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
const RESOLVE_TIMEOUT_MS = 10 * 60_000;
const JVM_OPTS = [
  '-Xms512m',
  '-Xmx512m',
  // What Kafka's own kafka-server-start.sh runs the broker with (KAFKA_JVM_PERFORMANCE_OPTS): G1 with a 20 ms pause
  // goal. The JVM's default goal is 200 ms, and one such pause delays every message in flight behind it.
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-Djava.awt.headless=true',
  '-Dorg.slf4j.simpleLogger.showDateTime=true',
  '-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS',
];

const execFileAsync = promisify(execFile);

export async function ensureKafkaBroker(opts: KafkaBrokerOptions): Promise<KafkaBrokerHandle> {
  const log = opts.log ?? (() => undefined);
  const brokers = [`${HOST}:${opts.port}`];
  const stateDir = dirname(opts.dataDir);
  const configFile = join(stateDir, 'server.properties');
  const pidFile = join(stateDir, 'broker.pid');
  const logFile = opts.logFile ?? join(stateDir, 'broker.log');

  if (await isListening(opts.port)) {
    if (opts.fresh && (await stopOwnBroker(pidFile, configFile))) {
      log(`stopped the earlier local broker on ${brokers[0]} to start fresh`);
    } else {
      await waitUntilReady(brokers, Date.now() + READY_TIMEOUT_MS, () => undefined);
      log(`reusing the Kafka broker already running on ${brokers[0]}`);
      return { brokers, startedHere: false, stop: async () => undefined };
    }
  }

  checkBrokerPrerequisites();
  const libDir = await resolveArtifacts(opts.cacheDir, log);
  if (opts.fresh) rmSync(opts.dataDir, { recursive: true, force: true });
  mkdirSync(opts.dataDir, { recursive: true });
  writeFileSync(configFile, serverProperties(opts));
  if (!existsSync(join(opts.dataDir, 'meta.properties'))) await formatStorage(libDir, configFile);

  mkdirSync(dirname(logFile), { recursive: true });
  const out = openSync(logFile, 'w');
  // Own process group: Ctrl-C in the terminal reaches the launcher, which stops the services before the broker.
  const child = spawn('java', [...JVM_OPTS, '-cp', join(libDir, '*'), 'kafka.Kafka', configFile], {
    cwd: stateDir,
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(`could not be spawned: ${err.message}`));
    child.once('exit', (code, signal) => resolve(signal ? `was killed by ${signal}` : `exited with code ${code}`));
  });
  let exitReason: string | undefined;
  void exited.then((reason) => (exitReason = reason));
  if (child.pid) writeFileSync(pidFile, `${child.pid}\n`);
  log(`starting Kafka broker on ${brokers[0]} (pid ${child.pid}, log ${logFile})`);

  try {
    await waitUntilReady(brokers, Date.now() + READY_TIMEOUT_MS, () => exitReason);
  } catch (err) {
    await stopProcess(child, exited);
    removePidFile(pidFile, child.pid);
    // Another process may have started a broker on this port meanwhile (ours then lost the bind): use that one.
    if (exitReason && (await isListening(opts.port))) {
      await waitUntilReady(brokers, Date.now() + READY_TIMEOUT_MS, () => undefined);
      log(`reusing the Kafka broker that another process started on ${brokers[0]}`);
      return { brokers, startedHere: false, stop: async () => undefined };
    }
    throw new Error(`${(err as Error).message}\n${logSummary(logFile)}`);
  }

  let stopping: Promise<void> | undefined;
  return {
    brokers,
    startedHere: true,
    stop: () =>
      (stopping ??= stopProcess(child, exited).then(() => {
        removePidFile(pidFile, child.pid);
        log(`stopped Kafka broker on ${brokers[0]}`);
      })),
  };
}

function serverProperties(opts: KafkaBrokerOptions): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=${HOST}:${opts.controllerPort}`,
    `listeners=PLAINTEXT://${HOST}:${opts.port},CONTROLLER://${HOST}:${opts.controllerPort}` +
      (opts.sasl ? `,SASL_PLAINTEXT://${HOST}:${opts.sasl.port}` : ''),
    `advertised.listeners=PLAINTEXT://${HOST}:${opts.port}` +
      (opts.sasl ? `,SASL_PLAINTEXT://${HOST}:${opts.sasl.port}` : ''),
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT',
    ...(opts.sasl
      ? [
          'sasl.enabled.mechanisms=PLAIN',
          'listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ' +
            Object.entries(opts.sasl.users)
              .map(([user, password]) => `user_${user}="${password}"`)
              .join(' ') +
            ';',
        ]
      : []),
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${opts.dataDir}`,
    'num.partitions=3',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    // Fewer internal partitions than the default 50: the first consumer group and transaction come up faster.
    'offsets.topic.num.partitions=5',
    'transaction.state.log.num.partitions=5',
    'group.initial.rebalance.delay.ms=0',
    // Topics are created explicitly from the contracts' topicSpecs(), so a typo'd topic name fails instead.
    'auto.create.topics.enable=false',
    '',
  ].join('\n');
}

/** Copies the broker's jars into `<cacheDir>/libs` once per pom content; a marker file records what is there. */
async function resolveArtifacts(cacheDir: string, log: (msg: string) => void): Promise<string> {
  const pomFile = join(repoRoot(), POM_FILE);
  const key = createHash('sha256').update(readFileSync(pomFile)).update(DEPENDENCY_PLUGIN).digest('hex');
  const libDir = join(cacheDir, 'libs');
  const marker = join(libDir, '.resolved');
  if (readIfExists(marker) === key) return libDir;

  log('resolving the Kafka broker jars with Maven (the first time downloads ~55 MB from Maven Central)');
  const started = Date.now();
  const tmpDir = `${libDir}.tmp-${process.pid}`;
  rmSync(tmpDir, { recursive: true, force: true });
  try {
    await execFileAsync(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        pomFile,
        `${DEPENDENCY_PLUGIN}:copy-dependencies`,
        `-DoutputDirectory=${tmpDir}`,
        '-DincludeScope=runtime',
      ],
      { timeout: RESOLVE_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (err) {
    rmSync(tmpDir, { recursive: true, force: true });
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`Maven could not resolve ${POM_FILE}: ${e.message}\n${lastLines(`${e.stdout}${e.stderr}`, 30)}`);
  }
  writeFileSync(join(tmpDir, '.resolved'), key);
  // Swap in whole so a concurrent start never sees half a directory (and keep its copy if it finished first).
  if (readIfExists(marker) === key) {
    rmSync(tmpDir, { recursive: true, force: true });
    return libDir;
  }
  rmSync(libDir, { recursive: true, force: true });
  try {
    renameSync(tmpDir, libDir);
  } catch (err) {
    rmSync(tmpDir, { recursive: true, force: true });
    if (readIfExists(marker) !== key) throw err;
  }
  log(`resolved the Kafka broker jars in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return libDir;
}

/** KRaft storage must be formatted once with a cluster id before the first start (kafka-storage.sh format). */
async function formatStorage(libDir: string, configFile: string): Promise<void> {
  try {
    await execFileAsync(
      'java',
      [
        '-cp',
        join(libDir, '*'),
        'kafka.tools.StorageTool',
        'format',
        '--standalone',
        '-t',
        newClusterId(),
        '-c',
        configFile,
      ],
      { timeout: 60_000 },
    );
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`Formatting Kafka storage failed: ${e.message}\n${lastLines(`${e.stdout}${e.stderr}`, 30)}`);
  }
}

/** Kafka's Uuid: 16 random bytes, base64url without padding; Kafka never issues one starting with '-'. */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Retries an admin connect + describeCluster until it succeeds, the process dies, or the deadline passes. */
async function waitUntilReady(brokers: string[], deadline: number, diedBecause: () => string | undefined) {
  let lastError = 'no attempt made';
  for (;;) {
    const died = diedBecause();
    if (died) throw new Error(`Kafka broker ${died} during start-up`);
    const admin = new Kafka({
      clientId: 'claimchain-infra-probe',
      brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1_000,
      retry: { retries: 0 },
    }).admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0) return;
      lastError = 'cluster reports no brokers yet';
    } catch (err) {
      lastError = (err as Error).message;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (Date.now() > deadline) throw new Error(`Kafka broker on ${brokers.join(',')} not ready in time: ${lastError}`);
    await sleep(250);
  }
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** SIGTERM to the broker's process group, then SIGKILL if it has not exited by the deadline. */
async function stopProcess(child: ChildProcess, exited: Promise<string>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  signalGroup(child.pid, 'SIGTERM');
  if (!(await settlesWithin(exited, STOP_TIMEOUT_MS))) {
    signalGroup(child.pid, 'SIGKILL');
    await exited;
  }
}

function signalGroup(leaderPid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-leaderPid, signal);
  } catch {
    // already gone
  }
}

/**
 * Stops a broker left running by an earlier run of this code (its pidfile names a live java started with this
 * config file). Returns false if the listener is someone else's.
 */
async function stopOwnBroker(pidFile: string, configFile: string): Promise<boolean> {
  const pid = Number(readIfExists(pidFile)?.trim());
  if (!pid) return false;
  const cmdline = readIfExists(`/proc/${pid}/cmdline`);
  if (!cmdline?.includes(configFile)) return false;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (existsSync(`/proc/${pid}`) && Date.now() < deadline) await sleep(100);
  if (existsSync(`/proc/${pid}`)) {
    signalGroup(pid, 'SIGKILL');
    await sleep(500);
  }
  rmSync(pidFile, { force: true });
  return true;
}

/** Only if it still names our process: a concurrent start may have written its own. */
function removePidFile(pidFile: string, pid: number | undefined): void {
  if (pid && readIfExists(pidFile)?.trim() === String(pid)) rmSync(pidFile, { force: true });
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The broker's ERROR lines (each with the exception line after it) and its last lines: enough to see why. */
function logSummary(logFile: string): string {
  const lines = (readIfExists(logFile) ?? '').trimEnd().split('\n');
  const errors = lines.flatMap((line, i) => (/ ERROR /.test(line) ? [line, lines[i + 1] ?? ''] : [])).slice(0, 12);
  return [
    ...(errors.length > 0 ? [`--- ERROR lines of ${logFile} ---`, ...errors] : []),
    `--- last lines of ${logFile} ---`,
    ...lines.slice(-12),
  ].join('\n');
}

function lastLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}
