import { Kafka, Producer } from 'kafkajs';
import { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { ALL_TOPICS, CloudEvent, dlqTopicOf, TopicName, Topics } from '@claimchain/wire';
import {
  buildEvent,
  createKafka,
  EventContext,
  KafkaEventTransport,
  MESSAGING_MIGRATIONS,
  TransientEventError,
} from '@claimchain/messaging';
import {
  claimSubmittedDraft,
  dlqReader,
  migratedDataSource,
  ownerSigned,
  testEventAuthenticator,
  waitFor,
} from '@claimchain/testing';

/** One row per handled event; a unique event id, so a second effect would fail loudly rather than hide. */
class FailureEffects1732400000098 implements MigrationInterface {
  name = 'FailureEffects1732400000098';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE effects (event_id uuid PRIMARY KEY, subject text NOT NULL, topic text NOT NULL)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE effects`);
  }
}

const IGNORED_INSURER = 'insurer-not-ours';
const submitted = (claimId: string, insurerId?: string) =>
  buildEvent(Topics.ClaimsSubmitted, claimSubmittedDraft(claimId, { source: 'test/failures', insurerId }));
const cancelled = (claimId: string) =>
  buildEvent(Topics.ClaimsCancelled, {
    source: 'test/failures',
    subject: claimId,
    data: { claimId, insurerId: 'insurer-test', reason: 'test', cancelledAt: new Date().toISOString() },
  });

/**
 * How the consumer treats failures (ADR 8), on the real broker and Postgres: a dependency that is down makes the
 * partition wait (never the DLQ), a batch that fails half-way leaves nothing behind, events a service ignores never
 * reach its inbox, and the topics of one batch handler share its transactions.
 */
describe('KafkaEventTransport failures and batches', () => {
  let ds: DataSource;
  let kafka: Kafka;
  let producer: Producer;
  let transport: KafkaEventTransport;
  /** Subjects whose handling throws a TransientEventError while listed. */
  const down = new Set<string>();
  const groupId = `consumer-failures-${uuidv4()}`;
  /** Subjects whose batch throws after writing its effects, on the first attempt only. */
  const failOnceAfterWriting = new Set<string>();
  const calls: { topics: string[]; subjects: string[] }[] = [];

  beforeAll(async () => {
    ds = await migratedDataSource(`${process.env.DATABASE_PREFIX}_consumer_failures`, {
      type: 'postgres',
      migrations: [...MESSAGING_MIGRATIONS, FailureEffects1732400000098],
    });
    kafka = createKafka('consumer-failures-int-spec', process.env.KAFKA_BROKERS!.split(','));
    producer = kafka.producer();
    await producer.connect();
    transport = newTransport(groupId);
    await listen(transport);
  });

  const newTransport = (groupId: string): KafkaEventTransport => {
    const t = new KafkaEventTransport({
      authenticator: testEventAuthenticator(),
      kafka,
      dataSource: ds,
      groupId,
      retryBaseMs: 20,
      retryMaxMs: 200,
      maxAttempts: 2,
    });
    const extras = {
      batch: true,
      // One insurer's events are not this service's business.
      accepts: (event: CloudEvent) => event.tenantid !== IGNORED_INSURER,
    };
    const handler = async (events: CloudEvent[], ctx: EventContext) => {
      calls.push({ topics: [...new Set(events.map((e) => e.type))], subjects: events.map((e) => e.subject) });
      await ctx.em.query(
        `INSERT INTO effects (event_id, subject, topic) SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])`,
        [events.map((e) => e.id), events.map((e) => e.subject), events.map((e) => e.type)],
      );
      const unavailable = events.find((e) => down.has(e.subject));
      if (unavailable) throw new TransientEventError(`dependency of ${unavailable.subject} is down`);
      const halfWay = events.find((e) => failOnceAfterWriting.delete(e.subject));
      if (halfWay) throw new TransientEventError(`connection lost after writing ${halfWay.subject}`);
    };
    t.addHandler(Topics.ClaimsSubmitted, handler, true, extras);
    t.addHandler(Topics.ClaimsCancelled, handler, true, extras);
    return t;
  };
  const listen = (t: KafkaEventTransport) =>
    new Promise<void>((resolve, reject) => void t.listen((e) => (e ? reject(e) : resolve())));

  afterAll(async () => {
    await transport.close();
    await producer.disconnect();
    await ds.destroy();
  });

  const effects = async (subject: string): Promise<number> => {
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM effects WHERE subject = $1`, [subject]);
    return n;
  };
  const send = (topic: TopicName, events: CloudEvent[]) =>
    producer.send({ topic, messages: events.map((e) => ({ key: e.subject, value: ownerSigned(topic, e) })) });

  it('waits while a dependency is down, reports it, dead-letters nothing, and handles the event once it is back', async () => {
    const dlq = await dlqReader(kafka, dlqTopicOf(Topics.ClaimsSubmitted));
    try {
      const claimId = uuidv4();
      down.add(claimId);
      const event = submitted(claimId);
      await send(Topics.ClaimsSubmitted, [event]);
      // Far more attempts than maxAttempts (2): a transient failure is not counted against the event.
      await waitFor('the consumer to report that it waits', () =>
        transport.waiting.find((w) => /is down/.test(w.error) && transport.waiting.length > 0),
      );
      const attemptsBefore = calls.length;
      await waitFor('several more attempts', () => calls.length >= attemptsBefore + 4);
      expect(await effects(claimId)).toBe(0);

      down.delete(claimId);
      await waitFor('the event handled once its dependency is back', async () => (await effects(claimId)) === 1);
      await waitFor('the consumer to stop reporting a wait', () => transport.waiting.length === 0);
      // A sentinel on the same partition proves the DLQ had its chance to receive anything sent before it.
      const sentinel = submitted(claimId);
      await send(Topics.ClaimsSubmitted, [sentinel]);
      await waitFor('the sentinel', async () => (await effects(claimId)) === 2);
      expect(dlq.messages.filter((m) => m.key === claimId)).toEqual([]);
    } finally {
      down.clear();
      await dlq.stop();
    }
  });

  it('dead-letters an event reusing a processed id with other content, skips an exact redelivery, and flows on', async () => {
    const dlq = await dlqReader(kafka, dlqTopicOf(Topics.ClaimsSubmitted));
    try {
      const claimId = uuidv4();
      const original = submitted(claimId);
      await send(Topics.ClaimsSubmitted, [original]);
      await waitFor('the original handled', async () => (await effects(claimId)) === 1);

      const impostor = { ...original, time: '2020-01-01T00:00:00.000Z' };
      await send(Topics.ClaimsSubmitted, [original, impostor]);
      const sentinel = submitted(claimId);
      await send(Topics.ClaimsSubmitted, [sentinel]);
      await waitFor('the sentinel behind them', async () => (await effects(claimId)) === 2);
      const dead = await waitFor('the impostor in the DLQ', () =>
        dlq.messages.find((m) => m.key === claimId && m.value?.includes('2020-01-01T00:00:00.000Z')),
      );
      expect(dead.headers['x-dlq-reason']).toBe('handler');
      expect(dead.headers['x-dlq-error']).toMatch(/processed before with other content/);
      // The exact redelivery was skipped as a duplicate, not dead-lettered.
      expect(dlq.messages.filter((m) => m.key === claimId)).toHaveLength(1);
    } finally {
      await dlq.stop();
    }
  });

  it('commits nothing of a batch that failed half-way, and gives each of its events one effect on the retry', async () => {
    const claimId = uuidv4();
    const events = Array.from({ length: 20 }, () => submitted(claimId));
    failOnceAfterWriting.add(claimId);
    await send(Topics.ClaimsSubmitted, events);
    await waitFor('every event handled', async () => (await effects(claimId)) === 20);
    expect(failOnceAfterWriting.has(claimId)).toBe(false); // the failing attempt did run, and wrote, and rolled back
    const [{ inbox }] = await ds.query(`SELECT count(*)::int AS inbox FROM inbox WHERE event_id = ANY($1::uuid[])`, [
      events.map((e) => e.id),
    ]);
    expect(inbox).toBe(20);
  });

  it('keeps events the handler does not accept out of the inbox and out of its transactions', async () => {
    const claimId = uuidv4();
    const ignored = submitted(uuidv4(), IGNORED_INSURER);
    const kept = submitted(claimId);
    await send(Topics.ClaimsSubmitted, [ignored]);
    await send(Topics.ClaimsSubmitted, [kept]);
    await waitFor('the accepted event', async () => (await effects(claimId)) === 1);
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM inbox WHERE event_id = $1`, [ignored.id]);
    expect(n).toBe(0);
    expect(await effects(ignored.subject)).toBe(0);
  });

  it('hands two topics of one claim to one handler call when they arrive together, each event once', async () => {
    // The two events wait in Kafka while no consumer runs; restarted in the same group (so it fetches only what is
    // new), the consumer gets both topics in one fetch, and their batches share one transaction.
    await transport.close();
    const claimId = uuidv4();
    const first = submitted(claimId);
    const second = cancelled(claimId);
    await send(Topics.ClaimsSubmitted, [first]);
    await send(Topics.ClaimsCancelled, [second]);
    transport = newTransport(groupId);
    await listen(transport);
    await waitFor('both handled', async () => (await effects(claimId)) === 2);
    expect(calls.find((c) => c.subjects.includes(claimId))?.topics.sort()).toEqual([
      'claim.cancelled',
      'claim.submitted',
    ]);
    // Redelivery of both has no second effect (the primary key on effects would also refuse it).
    await send(Topics.ClaimsSubmitted, [first]);
    await send(Topics.ClaimsCancelled, [second]);
    const sentinel = submitted(claimId);
    await send(Topics.ClaimsSubmitted, [sentinel]);
    await waitFor('the sentinel behind the redeliveries', async () => (await effects(claimId)) === 3);
  });
});

/**
 * Poison on every topic a service may consume (issue 12): whatever arrives that is not an event of the topic goes to
 * `<topic>.dlq` as it was sent, and the consumer moves past it, for each topic of the catalog alike.
 */
describe('KafkaEventTransport poison messages on every topic', () => {
  let ds: DataSource;
  let kafka: Kafka;
  let producer: Producer;
  let transport: KafkaEventTransport;
  let dlq: Awaited<ReturnType<typeof dlqReader>>;
  const groupId = `poison-${uuidv4()}`;

  beforeAll(async () => {
    ds = await migratedDataSource(`${process.env.DATABASE_PREFIX}_consumer_poison`, {
      type: 'postgres',
      migrations: MESSAGING_MIGRATIONS,
    });
    kafka = createKafka('consumer-poison-int-spec', process.env.KAFKA_BROKERS!.split(','));
    producer = kafka.producer();
    await producer.connect();
    transport = new KafkaEventTransport({
      kafka,
      dataSource: ds,
      groupId,
      retryBaseMs: 20,
      retryMaxMs: 200,
      authenticator: testEventAuthenticator(),
    });
    for (const topic of ALL_TOPICS) transport.addHandler(topic, async () => undefined, true, { batch: true });
    await new Promise<void>((resolve, reject) => void transport.listen((e) => (e ? reject(e) : resolve())));
    dlq = await dlqReader(kafka, ALL_TOPICS.map(dlqTopicOf));
  });

  afterAll(async () => {
    await dlq?.stop();
    await transport.close();
    await producer.disconnect();
    await ds.destroy();
  });

  /** The offset the group has committed on a partition: the next message it will read there. */
  async function committed(topic: TopicName, partition: number): Promise<number> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [{ partitions }] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return Number(partitions.find((p) => p.partition === partition)?.offset ?? -1);
    } finally {
      await admin.disconnect();
    }
  }

  it.each(ALL_TOPICS)(
    'dead-letters what is not an event of %s, as sent, and keeps its partition flowing',
    async (topic) => {
      const key = uuidv4();
      const stranger = topic === Topics.ClaimsSubmitted ? cancelled(key) : submitted(key);
      const poison: [string, string][] = [
        ['not JSON', 'not json at all {'],
        ['JSON of the wrong type', '[1,2,3]'],
        ['an event of another topic', ownerSigned(topic, stranger)],
        ['~1 MiB', ownerSigned(topic, { ...submitted(key), data: { pad: 'x'.repeat(1_000_000) } })],
      ];
      const [sent] = await producer.send({ topic, messages: poison.map(([, value]) => ({ key, value })) });
      const last = Number(sent.baseOffset) + poison.length - 1;
      const dead = await waitFor(`the ${poison.length} poison messages in ${dlqTopicOf(topic)}`, () => {
        const mine = dlq.messages.filter((m) => m.key === key);
        return mine.length >= poison.length ? mine : undefined;
      });
      expect(dead.map((m) => m.value)).toEqual(poison.map(([, value]) => value));
      expect(dead.map((m) => m.headers['x-dlq-reason'])).toEqual(poison.map(() => 'schema'));
      expect(dead.map((m) => m.headers['x-dlq-original-topic'])).toEqual(poison.map(() => topic));
      await waitFor(
        'the consumer to commit past the poison',
        async () => (await committed(topic, sent.partition)) > last,
      );
    },
  );
});
