import { Kafka, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { CloudEvent, Topics } from '@claimchain/wire';
import {
  buildEvent,
  ConsumerLagSampler,
  createKafka,
  EventContext,
  EventMetrics,
  KafkaEventTransport,
  MESSAGING_MIGRATIONS,
  TransientEventError,
} from '@claimchain/messaging';
import {
  claimSubmittedDraft,
  migratedDataSource,
  ownerSigned,
  parsePrometheusText,
  sampleSum,
  testEventAuthenticator,
  waitFor,
} from '@claimchain/testing';

const topic = Topics.ClaimsSubmitted;
const IGNORED_INSURER = 'insurer-not-ours';

/**
 * The transport's outcome counters on the real broker and Postgres, one outcome at a time: a transient failure
 * counted as retried until the event is handled, the same message again as a duplicate, an event the service does
 * not want as ignored, a message that is not an event as dead-lettered. Figures are differences from a scrape made
 * once the fresh group had caught up with what other specs left on the topic.
 */
describe(`${EventMetrics.name} in ${KafkaEventTransport.name}`, () => {
  let ds: DataSource;
  let kafka: Kafka;
  let producer: Producer;
  let transport: KafkaEventTransport;
  let lag: ConsumerLagSampler;
  const registry = new Registry();
  const groupId = `event-metrics-${uuidv4()}`;
  const down = new Set<string>();
  let baseline = new Map<string, number>();

  const scrape = async () => parsePrometheusText(await registry.metrics());
  const outcome = async (name: string) =>
    sampleSum(await scrape(), 'claimchain_events_consumed_total', { topic, outcome: name }) - (baseline.get(name) ?? 0);
  const send = (value: string, key = uuidv4()) => producer.send({ topic, messages: [{ key, value }] });

  beforeAll(async () => {
    ds = await migratedDataSource(`${process.env.DATABASE_PREFIX}_event_metrics`, {
      type: 'postgres',
      migrations: MESSAGING_MIGRATIONS,
    });
    kafka = createKafka('event-metrics-int-spec', process.env.KAFKA_BROKERS!.split(','));
    producer = kafka.producer();
    await producer.connect();
    transport = new KafkaEventTransport({
      kafka,
      dataSource: ds,
      groupId,
      retryBaseMs: 20,
      retryMaxMs: 100,
      commitIntervalMs: 100,
      metrics: new EventMetrics(registry),
      authenticator: testEventAuthenticator(),
    });
    const handler = async (events: CloudEvent[], ctx: EventContext) => {
      await ctx.em.query('SELECT 1');
      const unavailable = events.find((e) => down.has(e.subject));
      if (unavailable) throw new TransientEventError(`dependency of ${unavailable.subject} is down`);
    };
    transport.addHandler(topic, handler, true, {
      batch: true,
      accepts: (event: CloudEvent) => event.tenantid !== IGNORED_INSURER,
    });
    await new Promise<void>((resolve, reject) => void transport.listen((e) => (e ? reject(e) : resolve())));
    lag = new ConsumerLagSampler(registry, kafka, groupId, () => transport.topics, { minIntervalMs: 0 });
    await waitFor(
      'the group to catch up with the topic',
      async () => {
        const lags = (await scrape()).filter((s) => s.name === 'claimchain_consumer_lag_messages');
        return lags.length > 0 && lags.every((s) => s.value === 0);
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const samples = await scrape();
    baseline = new Map(
      ['handled', 'duplicate', 'ignored', 'retried', 'dead_lettered'].map((o) => [
        o,
        sampleSum(samples, 'claimchain_events_consumed_total', { topic, outcome: o }),
      ]),
    );
  }, 120_000);

  afterAll(async () => {
    await lag?.close();
    await transport?.close();
    await producer?.disconnect();
    await ds?.destroy();
  });

  it('counts attempts that failed transiently as retried, then the event as handled once', async () => {
    const claimId = uuidv4();
    down.add(claimId);
    const event = buildEvent(topic, claimSubmittedDraft(claimId, { source: 'test/event-metrics' }));
    await send(ownerSigned(topic, event), claimId);
    await waitFor('two retried attempts', async () => (await outcome('retried')) >= 2);
    expect(await outcome('handled')).toBe(0);
    down.delete(claimId);
    await waitFor('the event handled', async () => (await outcome('handled')) === 1);

    // The same message again (a redelivery, as after a crash before the offset commit): skipped by the inbox.
    await send(ownerSigned(topic, event), claimId);
    await waitFor('the redelivery counted as a duplicate', async () => (await outcome('duplicate')) === 1);
    expect(await outcome('handled')).toBe(1);
    expect(await outcome('dead_lettered')).toBe(0);
  });

  it('counts an event the service does not accept as ignored, and one that is not an event as dead-lettered', async () => {
    const ignored = buildEvent(
      topic,
      claimSubmittedDraft(uuidv4(), { source: 'test/event-metrics', insurerId: IGNORED_INSURER }),
    );
    await send(ownerSigned(topic, ignored));
    await waitFor('the event ignored', async () => (await outcome('ignored')) === 1);
    await send('not an event');
    await waitFor('the poison message dead-lettered', async () => (await outcome('dead_lettered')) === 1);
    expect(await outcome('handled')).toBe(1);
  });

  it('counts an event its topic owner did not sign as dead-lettered with reason signature', async () => {
    const dead = async (reason: string) =>
      sampleSum(await scrape(), 'claimchain_events_consumed_total', { topic, outcome: 'dead_lettered', reason });
    const [schemaBefore, signatureBefore] = [await dead('schema'), await dead('signature')];
    const unsigned = buildEvent(topic, claimSubmittedDraft(uuidv4(), { source: 'test/event-metrics' }));
    await send(JSON.stringify(unsigned));
    await waitFor('the unsigned event dead-lettered', async () => (await dead('signature')) === signatureBefore + 1);
    expect(await dead('schema')).toBe(schemaBefore);
  });
});
