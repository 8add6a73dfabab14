/**
 * The ceilings the pipeline is measured against, on the same machine, broker and Postgres, in the same run:
 *
 * - Postgres durable commits/s: 8 clients each committing single-row INSERTs (synchronous_commit as configured)
 *   for a few seconds, in a scratch database of the bench's own;
 * - kafkajs produce→consume on the bench's broker: an idempotent acks=all producer (as the outbox relays are) and a
 *   consumer group on a short-lived test topic with the domain topics' partition count, first flat out (messages/s
 *   from the first send to the last message consumed), then at a fixed rate, what is due sent as soon as the previous
 *   send is acknowledged (latency from when each message was due to its consumer).
 */
import { Client } from 'pg';
import { Kafka, logLevel } from 'kafkajs';
import { TOPIC_PARTITIONS } from '@claimchain/wire';
import { Percentiles, percentiles } from './stats';
import { databaseUrlOf, E2E_PREFIX } from './stack';
import { sleep } from './load';

export interface Ceilings {
  postgres: { clients: number; seconds: number; commitsPerSecond: number; commitLatencyMs: Percentiles };
  kafka: {
    messageBytes: number;
    flatOut: { messages: number; seconds: number; messagesPerSecond: number };
    fixedRate: { rate: number; messages: number; latencyMs: Percentiles };
  };
}

const PG_CLIENTS = 8;
const PG_SECONDS = 5;
const CEILING_DATABASE = `${E2E_PREFIX}_ceiling`;

export async function postgresCommitCeiling(baseUrl: string): Promise<Ceilings['postgres']> {
  const admin = new Client({ connectionString: baseUrl, connectionTimeoutMillis: 10_000 });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${CEILING_DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${CEILING_DATABASE}`);
    const url = databaseUrlOf(baseUrl, CEILING_DATABASE);
    const setup = new Client({ connectionString: url });
    await setup.connect();
    await setup.query(
      `CREATE TABLE commits (id bigserial PRIMARY KEY, client int NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
    );
    await setup.end();
    const latencies: number[] = [];
    const start = performance.now();
    const end = start + PG_SECONDS * 1000;
    await Promise.all(
      Array.from({ length: PG_CLIENTS }, async (_, i) => {
        const c = new Client({ connectionString: url });
        await c.connect();
        try {
          while (performance.now() < end) {
            const t = performance.now();
            await c.query('INSERT INTO commits (client) VALUES ($1)', [i]);
            latencies.push(performance.now() - t);
          }
        } finally {
          await c.end();
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    return {
      clients: PG_CLIENTS,
      seconds,
      commitsPerSecond: latencies.length / seconds,
      commitLatencyMs: percentiles(latencies),
    };
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${CEILING_DATABASE} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

const TOPIC = 'bench.ceiling.v1';
const MESSAGE_BYTES = 1024;
const FLAT_OUT_MESSAGES = 30_000;
const FLAT_OUT_BATCH = 500;
const FLAT_OUT_LIMIT_MS = 15_000;
const FIXED_RATE = 500;
const FIXED_SECONDS = 4;
const JOIN_TIMEOUT_MS = 30_000;

export async function kafkaCeiling(brokers: string[]): Promise<Ceilings['kafka']> {
  const kafka = new Kafka({ clientId: 'claimchain-e2e-bench-ceiling', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer = kafka.consumer({ groupId: `bench-ceiling-${Date.now()}`, maxWaitTimeInMs: 100 });
  try {
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: TOPIC_PARTITIONS }], waitForLeaders: true });
    await producer.connect();
    await consumer.connect();
    let consumed = 0;
    let lastConsumedAt = 0;
    const latencies: number[] = [];
    let measuring = false;
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
    await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const now = Date.now();
        for (const m of batch.messages) {
          consumed += 1;
          if (measuring) latencies.push(now - Number(m.timestamp));
        }
        lastConsumedAt = performance.now();
      },
    });
    const joinBy = Date.now() + JOIN_TIMEOUT_MS;
    while (!joined && Date.now() < joinBy) await sleep(100);
    if (!joined) throw new Error('the ceiling consumer did not join its group');

    const value = Buffer.alloc(MESSAGE_BYTES, 'x');
    const start = performance.now();
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < FLAT_OUT_MESSAGES; i += FLAT_OUT_BATCH) {
      const messages = Array.from({ length: FLAT_OUT_BATCH }, (_, j) => ({ key: String(i + j), value }));
      sends.push(producer.send({ topic: TOPIC, acks: -1, messages }));
    }
    await Promise.all(sends);
    const until = performance.now() + FLAT_OUT_LIMIT_MS;
    while (consumed < FLAT_OUT_MESSAGES && performance.now() < until) await sleep(20);
    const flatSeconds = ((consumed >= FLAT_OUT_MESSAGES ? lastConsumedAt : performance.now()) - start) / 1000;
    const flatOut = { messages: consumed, seconds: flatSeconds, messagesPerSecond: consumed / flatSeconds };

    measuring = true;
    const total = FIXED_RATE * FIXED_SECONDS;
    const fixedStart = Date.now();
    // As an outbox relay does: send what is due, wait for the broker's ack, then send what fell due meanwhile (the
    // idempotent producer has one request in flight, and kafkajs does not merge separate sends). Each message is
    // stamped with the time it was due, so a queue behind the producer counts in its latency.
    for (let i = 0; i < total;) {
      const due = Math.min(total, Math.floor(((Date.now() - fixedStart) * FIXED_RATE) / 1000) + 1);
      const messages = [];
      for (; i < due; i++) {
        messages.push({ key: String(i), value, timestamp: String(Math.round(fixedStart + (i * 1000) / FIXED_RATE)) });
      }
      if (messages.length > 0) await producer.send({ topic: TOPIC, acks: -1, messages });
      else await sleep(1);
    }
    const fixedUntil = Date.now() + 10_000;
    while (latencies.length < total && Date.now() < fixedUntil) await sleep(20);
    return {
      messageBytes: MESSAGE_BYTES,
      flatOut,
      fixedRate: { rate: FIXED_RATE, messages: latencies.length, latencyMs: percentiles(latencies) },
    };
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await admin.deleteTopics({ topics: [TOPIC] }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}
