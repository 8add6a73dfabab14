import { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { ConsumerLagSampler, createKafka, MESSAGING_MIGRATIONS, registerOutboxMetrics } from '@claimchain/messaging';
import { afterCommit, registerDatabasePoolMetrics, runAfterCommits } from '@claimchain/observability';
import { migratedDataSource, parsePrometheusText, sampleSum } from '@claimchain/testing';

/**
 * The metrics read from Postgres and Kafka, on the real ones: the outbox backlog, the pool, consumer lag, and the
 * after-commit hook the decision counters rely on.
 */
describe('metrics sources on the real Postgres and broker', () => {
  let ds: DataSource;
  const scrape = async (registry: Registry) => parsePrometheusText(await registry.metrics());

  beforeAll(async () => {
    ds = await migratedDataSource(`${process.env.DATABASE_PREFIX}_metrics_sources`, {
      type: 'postgres',
      migrations: MESSAGING_MIGRATIONS,
      extra: { max: 7 },
    });
    runAfterCommits(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
  });

  describe(afterCommit.name, () => {
    it('runs the effect once the transaction commits, not before', async () => {
      const ran: string[] = [];
      await ds.transaction(async (em) => {
        afterCommit(em, () => ran.push('first'));
        afterCommit(em, () => ran.push('second'));
        await em.query('SELECT 1');
        expect(ran).toEqual([]);
      });
      expect(ran).toEqual(['first', 'second']);
    });

    it('drops the effect of a transaction that rolls back, so a retried one counts once', async () => {
      const ran: number[] = [];
      for (const attempt of [1, 2]) {
        await ds
          .transaction(async (em) => {
            afterCommit(em, () => ran.push(attempt));
            if (attempt === 1) throw new Error('transient');
          })
          .catch(() => undefined);
      }
      expect(ran).toEqual([2]);
      // A later transaction on the same pooled connection does not run the rolled-back one's effect.
      await ds.transaction(async (em) => em.query('SELECT 1'));
      expect(ran).toEqual([2]);
    });

    it('runs at once outside a transaction', () => {
      let ran = false;
      afterCommit(ds.manager, () => (ran = true));
      expect(ran).toBe(true);
    });
  });

  describe(registerOutboxMetrics.name, () => {
    it('reports the unsent rows and how long the oldest has waited, and zero once they are published', async () => {
      const registry = new Registry();
      registerOutboxMetrics(registry, ds, { reuseMs: 0 });
      const insert = (age: string) =>
        ds.query(
          `INSERT INTO outbox (event_id, topic, message_key, payload, created_at)
           VALUES ($1, 'claims.submitted.v1', 'k', '{}', now() - $2::interval)`,
          [uuidv4(), age],
        );
      await insert('90 seconds');
      await insert('10 seconds');
      let samples = await scrape(registry);
      expect(sampleSum(samples, 'claimchain_outbox_unsent_rows')).toBe(2);
      const age = sampleSum(samples, 'claimchain_outbox_oldest_unsent_age_seconds');
      expect(age).toBeGreaterThanOrEqual(90);
      expect(age).toBeLessThan(120);

      await ds.query(`UPDATE outbox SET published_at = now()`);
      samples = await scrape(registry);
      expect(sampleSum(samples, 'claimchain_outbox_unsent_rows')).toBe(0);
      expect(sampleSum(samples, 'claimchain_outbox_oldest_unsent_age_seconds')).toBe(0);
    });
  });

  describe(registerDatabasePoolMetrics.name, () => {
    it("reports the pool's limit and the connections in use while a transaction holds one", async () => {
      const registry = new Registry();
      registerDatabasePoolMetrics(registry, ds);
      const runner = ds.createQueryRunner();
      await runner.startTransaction();
      try {
        const samples = await scrape(registry);
        expect(sampleSum(samples, 'claimchain_db_pool_max_connections')).toBe(7);
        expect(sampleSum(samples, 'claimchain_db_pool_connections', { state: 'in_use' })).toBeGreaterThanOrEqual(1);
        expect(sampleSum(samples, 'claimchain_db_pool_waiting_requests')).toBe(0);
      } finally {
        await runner.rollbackTransaction();
        await runner.release();
      }
    });
  });

  describe(ConsumerLagSampler.name, () => {
    let kafka: Kafka;
    const topic = `metrics-lag-${uuidv4()}`;
    const groupId = `metrics-lag-${uuidv4()}`;

    beforeAll(async () => {
      kafka = createKafka('metrics-sources-int-spec', process.env.KAFKA_BROKERS!.split(','));
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
      await admin.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic,
        messages: [
          { partition: 0, value: 'a' },
          { partition: 0, value: 'b' },
          { partition: 0, value: 'c' },
          { partition: 1, value: 'd' },
        ],
      });
      await producer.disconnect();
    });

    it('reports per partition the messages the group has not committed, from the low watermark before any commit', async () => {
      const registry = new Registry();
      const sampler = new ConsumerLagSampler(registry, kafka, groupId, () => [topic], { minIntervalMs: 0 });
      try {
        let samples = await scrape(registry);
        const lag = (partition: string) => sampleSum(samples, 'claimchain_consumer_lag_messages', { topic, partition });
        expect([lag('0'), lag('1')]).toEqual([3, 1]);

        // The group commits past two of partition 0's messages and all of partition 1's.
        const admin = kafka.admin();
        await admin.connect();
        await admin.setOffsets({
          groupId,
          topic,
          partitions: [
            { partition: 0, offset: '2' },
            { partition: 1, offset: '1' },
          ],
        });
        await admin.disconnect();
        samples = await scrape(registry);
        expect([lag('0'), lag('1')]).toEqual([1, 0]);
      } finally {
        await sampler.close();
      }
    });

    it('reuses a recent sample instead of asking the broker on every scrape', async () => {
      const registry = new Registry();
      const topics = jest.fn(() => [topic]);
      const sampler = new ConsumerLagSampler(registry, kafka, `${groupId}-cached`, topics, { minIntervalMs: 60_000 });
      try {
        await scrape(registry);
        await scrape(registry);
        expect(topics).toHaveBeenCalledTimes(1);
      } finally {
        await sampler.close();
      }
    });
  });
});
