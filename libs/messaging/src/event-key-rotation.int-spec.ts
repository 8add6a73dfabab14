import { Kafka, Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { loadServiceConfig } from '@claimchain/config';
import { dlqTopicOf, Topics } from '@claimchain/wire';
import { generateNoteKey, parseSignerKey, parseVerifierKey } from '@claimchain/ledger';
import {
  buildEvent,
  createKafka,
  EventAuthenticator,
  EventSigner,
  KafkaEventTransport,
  MESSAGING_MIGRATIONS,
} from '@claimchain/messaging';
import { claimSubmittedDraft, dlqReader, migratedDataSource, testEventSigner, waitFor } from '@claimchain/testing';

const topic = Topics.ClaimsSubmitted;

/**
 * Rotating claim-intake's event key on the real broker (ADR 18, docs/operations.md "Event signing keys"): while the
 * old verifier key is listed after the new one, a consumer takes events signed before the rotation and after it;
 * once the old key is removed, an event it signed is dead-lettered as not authentic.
 */
describe('event key rotation on the real broker', () => {
  /** One database per consumer: each has its own inbox, as two services would. */
  const databases: DataSource[] = [];
  let kafka: Kafka;
  let producer: Producer;
  const transports: KafkaEventTransport[] = [];
  const handled = new Map<string, Set<string>>();
  const oldSigner = testEventSigner('claim-intake'); // the run's key: what events were signed with before
  const rotated = generateNoteKey('claim-intake');
  const newSigner = new EventSigner(parseSignerKey(rotated.signerKey));
  const configured = loadServiceConfig('payout').events.verifierKeys;
  const others = configured.filter((k) => !k.startsWith('claim-intake+')).map(parseVerifierKey);
  const oldKeys = configured.filter((k) => k.startsWith('claim-intake+')).map(parseVerifierKey);

  async function consumer(name: string, authenticator: EventAuthenticator): Promise<Set<string>> {
    const ds = await migratedDataSource(`${process.env.DATABASE_PREFIX}_event_key_rotation_${name}`, {
      type: 'postgres',
      migrations: MESSAGING_MIGRATIONS,
    });
    databases.push(ds);
    const seen = new Set<string>();
    handled.set(name, seen);
    const transport = new KafkaEventTransport({
      kafka,
      dataSource: ds,
      groupId: `key-rotation-${name}-${uuidv4()}`,
      retryBaseMs: 10,
      authenticator,
    });
    transport.addHandler(topic, async (event: { id: string }) => void seen.add(event.id), true);
    await new Promise<void>((resolve, reject) => void transport.listen((e) => (e ? reject(e) : resolve())));
    transports.push(transport);
    return seen;
  }

  beforeAll(async () => {
    kafka = createKafka('event-key-rotation-int-spec', process.env.KAFKA_BROKERS!.split(','));
    producer = kafka.producer();
    await producer.connect();
  });

  afterAll(async () => {
    for (const t of transports) await t.close();
    await producer.disconnect();
    for (const ds of databases) await ds.destroy();
  });

  it('accepts events signed before the rotation while the old key is listed, and refuses them once it is removed', async () => {
    const key = uuidv4();
    const before = buildEvent(topic, claimSubmittedDraft(key, { source: 'test/rotation' }));
    const after = buildEvent(topic, claimSubmittedDraft(key, { source: 'test/rotation' }));
    await producer.send({
      topic,
      messages: [
        { key, value: JSON.stringify(oldSigner.sign(before)) },
        { key, value: JSON.stringify(newSigner.sign(after)) },
      ],
    });

    // During the rotation: the new key first, then the old one.
    const during = await consumer(
      'during',
      new EventAuthenticator([parseVerifierKey(rotated.verifierKey), ...oldKeys, ...others]),
    );
    await waitFor('both events taken during the rotation', () => during.has(before.id) && during.has(after.id));

    // After it: only the new key. The event signed before is dead-lettered; the one after is taken.
    const dlq = await dlqReader(kafka, dlqTopicOf(topic));
    try {
      const afterwards = await consumer(
        'after',
        new EventAuthenticator([parseVerifierKey(rotated.verifierKey), ...others]),
      );
      await waitFor('the event signed after the rotation taken', () => afterwards.has(after.id));
      const dead = await waitFor('the event signed before it dead-lettered', () =>
        dlq.messages.find((m) => m.key === key && m.headers['x-dlq-reason'] === 'signature'),
      );
      expect(dead.headers['x-dlq-error']).toMatch(/unknown-key/);
      expect(afterwards.has(before.id)).toBe(false);
    } finally {
      await dlq.stop();
    }
  });
});
