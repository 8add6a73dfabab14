import { Kafka, Producer } from 'kafkajs';
import { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { ClaimSubmittedV1, CloudEvent, dlqTopicOf, Topics } from '@claimchain/wire';
import {
  buildEvent,
  createKafka,
  EventContext,
  EventDraft,
  KafkaEventTransport,
  listDeadLetters,
  MESSAGING_MIGRATIONS,
  replayDeadLetters,
  OutboxRelay,
  RELAY_LOCK_ID,
} from '@claimchain/messaging';
import { currentLogContext, LogContext } from '@claimchain/http';
import {
  claimSubmittedDraft,
  dlqReader,
  migratedDataSource,
  ownerSigned,
  signedByOwner,
  testEventAuthenticator,
  testEventSigner,
  testOutboxWriter,
  waitFor,
} from '@claimchain/testing';

/** A table the test handler writes to: one row per handled delivery, so duplicates would show. */
class Effects1732400000099 implements MigrationInterface {
  name = 'Effects1732400000099';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE effects (id bigserial PRIMARY KEY, event_id uuid NOT NULL, subject text NOT NULL)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE effects`);
  }
}

const topic = Topics.ClaimsSubmitted;

function claimDraft(claimId = uuidv4()): EventDraft<typeof topic> {
  return claimSubmittedDraft(claimId, { source: 'test/messaging' });
}

function claimEvent(claimId = uuidv4()): CloudEvent<ClaimSubmittedV1> {
  return buildEvent(topic, claimDraft(claimId));
}

async function effectsOf(ds: DataSource, eventId: string): Promise<number> {
  const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM effects WHERE event_id = $1`, [eventId]);
  return n;
}

describe('messaging on the real broker and Postgres', () => {
  let ds: DataSource;
  let kafka: Kafka;
  let producer: Producer;
  let transport: KafkaEventTransport;
  const failingSubjects = new Set<string>();
  /** The log context each event was handled in: what every line its handler logs is tagged with. */
  const loggedAs = new Map<string, LogContext | undefined>();

  beforeAll(async () => {
    ds = await migratedDataSource(`${process.env.DATABASE_PREFIX}_messaging`, {
      type: 'postgres',
      migrations: [...MESSAGING_MIGRATIONS, Effects1732400000099],
    });
    kafka = createKafka('messaging-int-spec', process.env.KAFKA_BROKERS!.split(','));
    producer = kafka.producer();
    await producer.connect();
    transport = new KafkaEventTransport({
      authenticator: testEventAuthenticator(),
      kafka,
      dataSource: ds,
      groupId: `messaging-int-${uuidv4()}`,
      retryBaseMs: 10,
      maxAttempts: 3,
    });
    transport.addHandler(
      topic,
      async (event: CloudEvent, ctx: EventContext) => {
        if (failingSubjects.has(event.subject)) throw new Error(`handler refuses ${event.subject}`);
        loggedAs.set(event.id, { ...currentLogContext() });
        await ctx.em.query(`INSERT INTO effects (event_id, subject) VALUES ($1, $2)`, [event.id, event.subject]);
      },
      true,
    );
    await new Promise<void>((resolve, reject) => void transport.listen((e) => (e ? reject(e) : resolve())));
  });

  afterAll(async () => {
    await transport.close();
    await producer.disconnect();
    await ds.destroy();
  });

  describe(OutboxRelay.name, () => {
    it('delivers an event written while the relay was down once a new relay starts', async () => {
      const first = new OutboxRelay(ds, kafka);
      await first.start();
      await first.stop(); // the relay process is gone

      const writer = testOutboxWriter('claim-intake');
      const event = await ds.transaction((em) => writer.add(em, topic, claimDraft()));
      const [{ pending }] = await ds.query(`SELECT count(*)::int AS pending FROM outbox WHERE published_at IS NULL`);
      expect(pending).toBeGreaterThanOrEqual(1);

      const second = new OutboxRelay(ds, kafka);
      await second.start();
      try {
        await waitFor('the outboxed event to be handled', async () => (await effectsOf(ds, event.id)) === 1);
        await waitFor('the outbox row to be marked published', async () => {
          const rows = await ds.query(`SELECT published_at FROM outbox WHERE event_id = $1`, [event.id]);
          return rows[0]?.published_at !== null;
        });
      } finally {
        await second.stop();
      }
    });

    it('re-sends after a crash between publish and mark, and the inbox keeps it to one effect', async () => {
      const writer = testOutboxWriter('claim-intake');
      const event = await ds.transaction((em) => writer.add(em, topic, claimDraft()));
      const relay = new OutboxRelay(ds, kafka);
      await relay.start();
      await waitFor('first delivery', async () => (await effectsOf(ds, event.id)) === 1);
      await relay.stop();
      // The crash: Kafka has the message, but the mark never committed.
      await ds.query(`UPDATE outbox SET published_at = NULL WHERE event_id = $1`, [event.id]);
      const restarted = new OutboxRelay(ds, kafka);
      await restarted.start();
      try {
        await waitFor('the re-send to be published', async () => {
          const rows = await ds.query(`SELECT published_at FROM outbox WHERE event_id = $1`, [event.id]);
          return rows[0]?.published_at !== null;
        });
        // A later event on the same key is handled only after the re-sent one (same partition, in order).
        const sentinel = await ds.transaction((em) => writer.add(em, topic, claimDraft(event.subject)));
        await waitFor('the sentinel behind the re-send', async () => (await effectsOf(ds, sentinel.id)) === 1);
      } finally {
        await restarted.stop();
      }
      expect(await effectsOf(ds, event.id)).toBe(1);
    });

    it('splits a drain into produce requests the broker accepts, and keeps their order', async () => {
      // A topic whose batches may hold 16 KiB at most; 30 rows of ~1.1 KB in one request would be refused.
      const small = `relay-split-${uuidv4()}`;
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: small, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '16384' }] }],
      });
      await admin.disconnect();
      const key = uuidv4();
      const ids = Array.from({ length: 30 }, () => uuidv4());
      await ds.query(
        `INSERT INTO outbox (event_id, topic, message_key, payload)
         SELECT id, $2, $3, jsonb_build_object('id', id, 'pad', repeat('x', 1100)) FROM unnest($1::uuid[]) AS id`,
        [ids, small, key],
      );
      const received: string[] = [];
      const reader = kafka.consumer({ groupId: `relay-split-${uuidv4()}` });
      await reader.connect();
      await reader.subscribe({ topic: small, fromBeginning: true });
      await reader.run({
        eachMessage: async ({ message }) => void received.push(JSON.parse(message.value!.toString()).id),
      });
      const relay = new OutboxRelay(ds, kafka, { maxRequestBytes: 8192 });
      await relay.start();
      try {
        await waitFor('every row published and read back', () => received.length >= 30);
      } finally {
        await relay.stop();
        await reader.disconnect();
      }
      expect(received).toEqual(ids);
    });

    it('publishes a row that committed after a later one was already published', async () => {
      const writer = testOutboxWriter('claim-intake');
      const relay = new OutboxRelay(ds, kafka);
      await relay.start();
      const slow = ds.createQueryRunner();
      await slow.connect();
      try {
        // The slow transaction takes its seq first and commits last: the relay has moved past that seq meanwhile.
        await slow.startTransaction();
        const early = await writer.add(slow.manager, topic, claimDraft());
        const later = await ds.transaction((em) => writer.add(em, topic, claimDraft()));
        await waitFor('the later event handled', async () => (await effectsOf(ds, later.id)) === 1);
        await slow.commitTransaction();
        await waitFor('the earlier event handled too', async () => (await effectsOf(ds, early.id)) === 1);
      } finally {
        await slow.release();
        await relay.stop();
      }
    });

    it('publishes nothing while another relay holds the lock, and what is pending once it is free', async () => {
      const other = ds.createQueryRunner(); // holds the lock as another relay's drain would
      await other.connect();
      await other.query(`SELECT pg_advisory_lock($1)`, [RELAY_LOCK_ID]);
      const relay = new OutboxRelay(ds, kafka);
      await relay.start();
      try {
        const event = await ds.transaction((em) => testOutboxWriter('claim-intake').add(em, topic, claimDraft()));
        expect(await relay.drainOnce()).toBe(0);
        const [row] = await ds.query(`SELECT published_at FROM outbox WHERE event_id = $1`, [event.id]);
        expect(row.published_at).toBeNull();

        await other.query(`SELECT pg_advisory_unlock($1)`, [RELAY_LOCK_ID]);
        await waitFor('the event to be handled', async () => (await effectsOf(ds, event.id)) === 1);
        await waitFor('the outbox row to be marked published', async () => {
          const rows = await ds.query(`SELECT published_at FROM outbox WHERE event_id = $1`, [event.id]);
          return rows[0]?.published_at !== null;
        });
      } finally {
        await relay.stop();
        await other.release();
      }
    });
  });

  describe(KafkaEventTransport.name, () => {
    it('gives an event delivered twice exactly one effect', async () => {
      const event = claimEvent();
      const message = { key: event.subject, value: ownerSigned(topic, event) };
      await producer.send({ topic, messages: [message, message] });
      const sentinel = claimEvent(event.subject);
      await producer.send({ topic, messages: [{ key: sentinel.subject, value: ownerSigned(topic, sentinel) }] });

      await waitFor('the sentinel after both copies', async () => (await effectsOf(ds, sentinel.id)) === 1);
      expect(await effectsOf(ds, event.id)).toBe(1);
    });

    it('handles each event in a log context that names it and its claim', async () => {
      const event = claimEvent();
      await producer.send({ topic, messages: [{ key: event.subject, value: ownerSigned(topic, event) }] });
      await waitFor('the event to be handled', async () => (await effectsOf(ds, event.id)) === 1);
      expect(loggedAs.get(event.id)).toMatchObject({ eventId: event.id, claimId: event.subject });
    });

    it('dead-letters a message that fails its schema and keeps processing the partition', async () => {
      const dlq = await dlqReader(kafka, dlqTopicOf(topic));
      try {
        const key = uuidv4();
        const broken = { ...claimEvent(key), data: { claimId: key, total: 12.5 } };
        const next = claimEvent(key);
        await producer.send({
          topic,
          messages: [
            { key, value: ownerSigned(topic, broken) },
            { key, value: 'not json at all' },
            { key, value: ownerSigned(topic, next) },
          ],
        });

        await waitFor('the valid message behind the bad ones', async () => (await effectsOf(ds, next.id)) === 1);
        const dead = await waitFor('both bad messages in the DLQ', () => {
          const mine = dlq.messages.filter((m) => m.key === key);
          return mine.length >= 2 ? mine : undefined;
        });
        expect(dead.map((m) => m.headers['x-dlq-reason'])).toEqual(['schema', 'schema']);
        expect(dead[0].headers['x-dlq-error']).toMatch(/\/data\/\w+/);
        expect(dead[1].headers['x-dlq-error']).toMatch(/not JSON/);
        expect(dead[0].headers['x-dlq-original-topic']).toBe(topic);
        expect(dead[1].value).toBe('not json at all');
      } finally {
        await dlq.stop();
      }
    });

    it.each([
      ['unsigned', (e: CloudEvent) => JSON.stringify(e)],
      [
        'signed by another service than the topic’s owner',
        (e: CloudEvent) => JSON.stringify(testEventSigner('payout').sign(e)),
      ],
      [
        'altered after its owner signed it',
        (e: CloudEvent) => JSON.stringify({ ...signedByOwner(topic, e), subject: uuidv4() }),
      ],
    ])(
      'dead-letters an event %s at once, as not authentic, and keeps processing the partition',
      async (_how, forge) => {
        const dlq = await dlqReader(kafka, dlqTopicOf(topic));
        try {
          const key = uuidv4();
          const forged = claimEvent(key);
          const next = claimEvent(key);
          const value = forge(forged);
          await producer.send({
            topic,
            messages: [
              { key, value },
              { key, value: ownerSigned(topic, next) },
            ],
          });
          await waitFor('the signed message behind the forged one', async () => (await effectsOf(ds, next.id)) === 1);
          const dead = await waitFor('the forged message in the DLQ', () => dlq.messages.find((m) => m.key === key));
          expect(dead.headers['x-dlq-reason']).toBe('signature');
          expect(dead.headers['x-dlq-attempts']).toBe('0');
          expect(dead.value).toBe(value);
          expect(await effectsOf(ds, forged.id)).toBe(0);
        } finally {
          await dlq.stop();
        }
      },
    );

    it("dead-letters at once, as a schema violation, a signed claim event whose subject is not its data's claimId", async () => {
      const dlq = await dlqReader(kafka, dlqTopicOf(topic));
      try {
        const key = uuidv4();
        const mismatched = { ...claimEvent(key), subject: uuidv4() };
        const next = claimEvent(key);
        await producer.send({
          topic,
          messages: [
            { key, value: ownerSigned(topic, mismatched) },
            { key, value: ownerSigned(topic, next) },
          ],
        });
        await waitFor('the event behind the mismatched one', async () => (await effectsOf(ds, next.id)) === 1);
        const dead = await waitFor('the mismatched event in the DLQ', () => dlq.messages.find((m) => m.key === key));
        expect(dead.headers['x-dlq-reason']).toBe('schema');
        expect(dead.headers['x-dlq-attempts']).toBe('0');
        expect(await effectsOf(ds, mismatched.id)).toBe(0);
      } finally {
        await dlq.stop();
      }
    });

    it('dead-letters after bounded retries when the handler keeps failing, then moves on', async () => {
      const dlq = await dlqReader(kafka, dlqTopicOf(topic));
      try {
        const key = uuidv4();
        failingSubjects.add(key);
        const poison = claimEvent(key);
        await producer.send({ topic, messages: [{ key, value: ownerSigned(topic, poison) }] });
        const dead = await waitFor('the poison message in the DLQ', () => dlq.messages.find((m) => m.key === key));
        expect(dead.headers['x-dlq-reason']).toBe('handler');
        expect(dead.headers['x-dlq-attempts']).toBe('3');
        expect(dead.headers['x-dlq-error']).toContain(`handler refuses ${key}`);
        expect(await effectsOf(ds, poison.id)).toBe(0);

        failingSubjects.delete(key);
        const after = claimEvent(key);
        await producer.send({ topic, messages: [{ key, value: ownerSigned(topic, after) }] });
        await waitFor('the next message on that key', async () => (await effectsOf(ds, after.id)) === 1);

        // Ops fixed the cause: listing shows the letter with its error, replaying processes it, once.
        const listed = await listDeadLetters(kafka, dlqTopicOf(topic));
        const letter = listed.find((l) => l.key === key);
        expect(letter?.headers['x-dlq-error']).toContain('handler refuses');
        // The letter is the message as its owner signed it: the replay re-sends those bytes, and the consumer (which
        // accepts only events claim-intake signed) takes it, so the signature survived the dead-letter round trip.
        expect(letter?.value).toBe(ownerSigned(topic, poison));
        expect(await replayDeadLetters(kafka, dlqTopicOf(topic))).toBeGreaterThanOrEqual(1);
        await waitFor('the replayed poison message to be handled', async () => (await effectsOf(ds, poison.id)) === 1);
        // A second replay does not send the poison message again (earlier schema-broken letters, replayed above and
        // dead-lettered again because they are still broken, may be replayed: that is what replay means).
        await replayDeadLetters(kafka, dlqTopicOf(topic));
        const poisonLetters = (await listDeadLetters(kafka, dlqTopicOf(topic))).filter((l) => l.key === key);
        expect(poisonLetters).toHaveLength(1);
        expect(await effectsOf(ds, poison.id)).toBe(1);
      } finally {
        failingSubjects.clear();
        await dlq.stop();
      }
    });
  });
});

describe('batch handlers on the real broker and Postgres', () => {
  const topic = Topics.TreatmentsRejected;
  let ds: DataSource;
  let kafka: Kafka;
  let transport: KafkaEventTransport;
  const callSizes: number[] = [];
  const poisonClaims = new Set<string>();

  const rejected = (claimId = uuidv4()) =>
    buildEvent(topic, {
      source: 'test/batch',
      subject: claimId,
      data: {
        claimId,
        confirmationId: uuidv4(),
        providerId: 'provider-test',
        reasons: [{ sequence: 1, code: 'NOT_PERFORMED', message: 'not performed' }],
        rejectedAt: new Date().toISOString(),
      },
    });

  beforeAll(async () => {
    ds = await migratedDataSource(`${process.env.DATABASE_PREFIX}_messaging_batch`, {
      type: 'postgres',
      migrations: [...MESSAGING_MIGRATIONS, Effects1732400000099],
    });
    kafka = createKafka('messaging-batch-int-spec', process.env.KAFKA_BROKERS!.split(','));
  });

  afterAll(async () => {
    await transport?.close();
    await ds.destroy();
  });

  it('hands a batch handler many events in one call, each with exactly one effect, and isolates a poison event', async () => {
    const claimId = uuidv4(); // one key: one partition, one ordered batch
    const events = Array.from({ length: 50 }, () => rejected(claimId));
    const poison = rejected(claimId);
    poisonClaims.add(poison.id);
    const producer = kafka.producer();
    await producer.connect();
    const messages = [...events.slice(0, 25), poison, ...events.slice(25)].map((e) => ({
      key: claimId,
      value: ownerSigned(topic, e),
    }));
    await producer.send({ topic, messages: [...messages, messages[0], messages[1]] }); // two redeliveries
    await producer.disconnect();

    transport = new KafkaEventTransport({
      authenticator: testEventAuthenticator(),
      kafka,
      dataSource: ds,
      groupId: `batch-int-${uuidv4()}`,
      retryBaseMs: 10,
    });
    transport.addHandler(
      topic,
      async (batch: CloudEvent[], ctx: EventContext) => {
        callSizes.push(batch.length);
        if (batch.some((e) => poisonClaims.has(e.id))) throw new Error('poison in batch');
        await ctx.em.query(`INSERT INTO effects (event_id, subject) SELECT * FROM unnest($1::uuid[], $2::text[])`, [
          batch.map((e) => e.id),
          batch.map((e) => e.subject),
        ]);
      },
      true,
      { batch: true },
    );
    const dlq = await dlqReader(kafka, dlqTopicOf(topic));
    try {
      await new Promise<void>((resolve, reject) => void transport.listen((e) => (e ? reject(e) : resolve())));
      await waitFor('every good event handled', async () => {
        const [{ n }] = await ds.query(`SELECT count(DISTINCT event_id)::int AS n FROM effects WHERE subject = $1`, [
          claimId,
        ]);
        return n === 50;
      });
      const dead = await waitFor('the poison event in the DLQ', () =>
        dlq.messages.find((m) => m.value?.includes(poison.id)),
      );
      expect(dead.headers['x-dlq-reason']).toBe('handler');
      const [{ total }] = await ds.query(`SELECT count(*)::int AS total FROM effects WHERE subject = $1`, [claimId]);
      expect(total).toBe(50); // the two redelivered copies had no second effect
      expect(Math.max(...callSizes)).toBeGreaterThan(1);
    } finally {
      await dlq.stop();
    }
  });
});
