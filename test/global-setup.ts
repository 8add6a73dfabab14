/**
 * Jest globalSetup: the real infrastructure the integration and e2e tiers run on, prepared once per run. A test
 * Kafka broker of its own on 127.0.0.1:19092 with empty storage (unless KAFKA_BROKERS names a cluster), the
 * contracts' topics, and the four `claimchain_test_*` databases dropped, recreated and migrated. The variables it
 * sets (KAFKA_BROKERS, DATABASE_URL, DATABASE_PREFIX) are what the tests and the services they boot read.
 */
// First: jest's moduleNameMapper does not apply here, so teach Node the @claimchain/* aliases before they load.
import '../scripts/infra/register-path-aliases';
import { DEFAULT_DATABASE_URL } from '@claimchain/config';
import { topicSpecs } from '@claimchain/wire';
import { KafkaBrokerHandle, ensureKafkaBroker } from '../scripts/infra/kafka-broker';
import { cachePath } from '../scripts/infra/paths';
import { dropDatabases, ensureDatabases, serviceDatabaseNames } from '../scripts/infra/postgres';
import { ensureTopics } from '../scripts/infra/topics';
import { migrateAll } from '../scripts/migrate';
import { ensureSigningKey } from '../scripts/infra/signing-key';
import { ensureEventKeys, eventKeyEnvironment } from '../scripts/infra/event-keys';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseSignerKey } from '@claimchain/ledger';

/**
 * Apart from the dev broker (9092) and databases so `npm start` and `npm test` can run side by side. Two test runs
 * on one machine must differ in both: set CLAIMCHAIN_TEST_KAFKA_PORT and CLAIMCHAIN_TEST_DB_PREFIX for the second.
 */
const TEST_DATABASE_PREFIX = process.env.CLAIMCHAIN_TEST_DB_PREFIX ?? 'claimchain_test';
const TEST_KAFKA_PORT = Number(process.env.CLAIMCHAIN_TEST_KAFKA_PORT ?? 19092);
const INFRA_PROJECTS = ['integration', 'e2e'];
const TEST_SASL_USER = 'claimchain-test';
const TEST_SASL_PASSWORD = randomBytes(12).toString('hex');

declare global {
  // Handed from globalSetup to globalTeardown, which jest runs in the same process.
  var __claimchainTestBroker: KafkaBrokerHandle | undefined;
}

export default async function globalSetup(): Promise<void> {
  if (!infraProjectsSelected()) return;
  const started = Date.now();
  // The broker's JVM start and the migrations are independent: run them side by side.
  const [kafka, databases] = await Promise.allSettled([prepareKafka(), prepareDatabases()]);
  if (kafka.status === 'fulfilled') globalThis.__claimchainTestBroker = kafka.value.broker;
  if (kafka.status === 'rejected' || databases.status === 'rejected') {
    await globalThis.__claimchainTestBroker?.stop();
    globalThis.__claimchainTestBroker = undefined;
    throw kafka.status === 'rejected' ? kafka.reason : (databases as PromiseRejectedResult).reason;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `\n[global-setup] ${kafka.value.note}, topics ready, ${TEST_DATABASE_PREFIX}_* databases recreated and migrated (${seconds} s)\n`,
  );
}

async function prepareKafka(): Promise<{ broker?: KafkaBrokerHandle; note: string }> {
  if (process.env.KAFKA_BROKERS) {
    await ensureTopics(process.env.KAFKA_BROKERS.split(','), topicSpecs());
    return { note: `Kafka from KAFKA_BROKERS (${process.env.KAFKA_BROKERS})` };
  }
  const broker = await ensureKafkaBroker({
    port: TEST_KAFKA_PORT,
    controllerPort: TEST_KAFKA_PORT + 1,
    dataDir: cachePath(`kafka-test-${TEST_KAFKA_PORT}`, 'data'),
    cacheDir: cachePath('kafka'),
    fresh: true,
    // A second listener requiring SASL/PLAIN, for the specs of the clients' authentication settings.
    sasl: { port: TEST_KAFKA_PORT + 2, users: { [TEST_SASL_USER]: TEST_SASL_PASSWORD } },
    // Only the slow first-time download earns a line of its own; the summary says the rest.
    log: (msg) => {
      if (msg.startsWith('resolv')) process.stdout.write(`[global-setup] ${msg}\n`);
    },
  });
  try {
    await ensureTopics(broker.brokers, topicSpecs());
  } catch (err) {
    await broker.stop();
    throw err;
  }
  process.env.KAFKA_BROKERS = broker.brokers.join(',');
  process.env.CLAIMCHAIN_TEST_KAFKA_SASL = JSON.stringify({
    brokers: [`127.0.0.1:${TEST_KAFKA_PORT + 2}`],
    username: TEST_SASL_USER,
    password: TEST_SASL_PASSWORD,
  });
  const how = broker.startedHere ? 'started a fresh Kafka broker on' : 'reused the Kafka broker already on';
  return { broker, note: `${how} ${process.env.KAFKA_BROKERS}` };
}

async function prepareDatabases(): Promise<void> {
  const baseUrl = (process.env.DATABASE_URL ??= DEFAULT_DATABASE_URL);
  process.env.DATABASE_PREFIX = TEST_DATABASE_PREFIX;
  const databases = serviceDatabaseNames(baseUrl, TEST_DATABASE_PREFIX);
  await dropDatabases(baseUrl, databases);
  await ensureDatabases(baseUrl, databases);
  await migrateAll(baseUrl, TEST_DATABASE_PREFIX);
  prepareLedgerKey();
  prepareEventKeys();
}

/**
 * Each service's event signing key, kept for the run like the ledger's (a service started by a later spec consumes
 * events an earlier spec's services signed), and every verifier key (ADR 18).
 */
function prepareEventKeys(): void {
  Object.assign(process.env, eventKeyEnvironment(ensureEventKeys(cachePath('test-events', TEST_DATABASE_PREFIX))));
}

/**
 * One ledger signing key for the whole run, as in production: every spec's services share the test databases and
 * topics, so a payout started by a later spec re-reads checkpoints signed by an earlier spec's ledger, and must be
 * able to verify them (a different key per spec looked like a forged log and tripped payout's circuit breaker).
 */
function prepareLedgerKey(): void {
  const origin = 'claimchain.e2e/ledger';
  const file = cachePath('test-ledger', `${TEST_DATABASE_PREFIX}.key`);
  ensureSigningKey(file, origin);
  process.env.LEDGER_ORIGIN = origin;
  process.env.LEDGER_SIGNING_KEY_FILE = file;
  process.env.LEDGER_VERIFIER_KEY = parseSignerKey(readFileSync(file, 'utf8').trim()).verifierKey;
}

/** `jest --selectProjects unit` needs no broker or database; any other run might. */
function infraProjectsSelected(): boolean {
  const argv = process.argv;
  const at = argv.findIndex((a) => a === '--selectProjects' || a.startsWith('--selectProjects='));
  if (at < 0) return true;
  let selected: string[];
  if (argv[at].includes('=')) {
    selected = argv[at].slice(argv[at].indexOf('=') + 1).split(',');
  } else {
    const rest = argv.slice(at + 1);
    const end = rest.findIndex((a) => a.startsWith('-'));
    selected = end < 0 ? rest : rest.slice(0, end);
  }
  return selected.some((p) => INFRA_PROJECTS.includes(p));
}
