/**
 * Creates the system's Kafka topics (from the contracts' topicSpecs()) if they are missing, waits until every
 * partition has a leader, and brings up Kafka's own group and transaction coordinators, so the producers and
 * consumers started next neither race topic creation nor meet COORDINATOR_LOAD_IN_PROGRESS.
 */
import { Kafka, logLevel } from 'kafkajs';
import { KafkaSecurity } from '@claimchain/config';
import { kafkaSecurityOptions } from '@claimchain/messaging';
import { sleep } from './timing';

export interface TopicSpec {
  topic: string;
  numPartitions: number;
}

const LEADERS_TIMEOUT_MS = 30_000;

/** Idempotent: existing topics are left as they are (a partition-count mismatch is reported, not changed). */
export async function ensureTopics(
  brokers: string[],
  specs: TopicSpec[],
  log: (msg: string) => void = () => undefined,
  security: KafkaSecurity = {},
): Promise<void> {
  const admin = new Kafka({
    clientId: 'claimchain-infra-topics',
    brokers,
    logLevel: logLevel.WARN,
    ...kafkaSecurityOptions(security),
  }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length > 0) {
      // replicationFactor -1: the cluster's default, so the same call suits the one-node broker and a real cluster.
      await admin.createTopics({
        topics: missing.map((s) => ({ topic: s.topic, numPartitions: s.numPartitions, replicationFactor: -1 })),
        waitForLeaders: true,
      });
      log(`created ${missing.length} Kafka topic(s): ${missing.map((s) => s.topic).join(', ')}`);
    }
    await waitForLeaders(admin, specs, log);
  } finally {
    await admin.disconnect();
  }
  await warmCoordinators(brokers, log);
}

/**
 * A fresh broker creates its internal offsets and transaction-state topics on the first consumer group and the
 * first idempotent producer, and answers "coordinator loading" until they are up: ~1 s here, once per broker. The
 * client retries quietly; the services would log errors and restart their consumers instead.
 */
async function warmCoordinators(brokers: string[], log: (msg: string) => void): Promise<void> {
  const kafka = new Kafka({ clientId: 'claimchain-infra-warmup', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true });
  try {
    await admin.connect();
    await admin.describeGroups(['claimchain-infra-warmup']);
    await producer.connect();
  } catch (err) {
    // Not fatal: on a managed cluster this client may lack the rights; the services then wait as they would anyway.
    log(`warning: could not warm up the Kafka coordinators: ${(err as Error).message}`);
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

async function waitForLeaders(
  admin: ReturnType<Kafka['admin']>,
  specs: TopicSpec[],
  log: (msg: string) => void,
): Promise<void> {
  const deadline = Date.now() + LEADERS_TIMEOUT_MS;
  const wanted = new Map(specs.map((s) => [s.topic, s.numPartitions]));
  for (;;) {
    const { topics } = await admin.fetchTopicMetadata({ topics: [...wanted.keys()] });
    const leaderless = topics.filter((t) => t.partitions.some((p) => p.leader < 0)).map((t) => t.name);
    if (leaderless.length === 0) {
      for (const t of topics) {
        const want = wanted.get(t.name);
        if (want !== undefined && t.partitions.length !== want)
          log(`warning: topic ${t.name} has ${t.partitions.length} partitions, the contracts say ${want}`);
      }
      return;
    }
    if (Date.now() > deadline) throw new Error(`Kafka topics without a partition leader: ${leaderless.join(', ')}`);
    await sleep(200);
  }
}
