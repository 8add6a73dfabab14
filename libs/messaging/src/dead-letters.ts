import { Kafka } from 'kafkajs';
import { v4 as uuidv4 } from 'uuid';
import { IDEMPOTENT_PRODUCER } from './outbox.relay';

export interface DeadLetter {
  dlqTopic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/** The consumer group that remembers which dead letters were already replayed. */
export const REPLAYER_GROUP = 'claimchain.dlq-replayer';

function headersOf(raw: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw ?? {})) out[k] = Buffer.isBuffer(v) ? v.toString() : String(v);
  return out;
}

/**
 * Reads a DLQ topic from `groupId`'s position (the start for a new group) up to its current end, then stops.
 * With commit=true the group's offsets move past what was read, so the next call sees only newer letters.
 */
async function readToEnd(
  kafka: Kafka,
  dlqTopic: string,
  groupId: string,
  onLetter: (letter: DeadLetter) => Promise<void>,
  commit: boolean,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(dlqTopic);
  const committed = await admin.fetchOffsets({ groupId, topics: [dlqTopic] });
  await admin.disconnect();
  const start = new Map<number, bigint>(
    committed[0].partitions.map((p) => [p.partition, BigInt(p.offset === '-1' ? '0' : p.offset)]),
  );
  const remaining = new Set(
    ends.filter((e) => BigInt(e.high) > (start.get(e.partition) ?? BigInt(e.low))).map((e) => e.partition),
  );
  if (remaining.size === 0) return;
  const high = new Map(ends.map((e) => [e.partition, BigInt(e.high)]));
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topic: dlqTopic, fromBeginning: true });
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    autoCommit: commit,
    eachMessage: async ({ partition, message }) => {
      const offset = BigInt(message.offset);
      if (offset < high.get(partition)!) {
        await onLetter({
          dlqTopic,
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? null,
          headers: headersOf(message.headers),
        });
      }
      if (offset + 1n >= high.get(partition)!) {
        remaining.delete(partition);
        if (remaining.size === 0) done();
      }
    },
  });
  await finished;
  await consumer.disconnect(); // commits the last resolved offsets when autoCommit is on
}

/** Every dead letter currently on `dlqTopic`, oldest first per partition. Reads only; changes nothing. */
export async function listDeadLetters(kafka: Kafka, dlqTopic: string): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  await readToEnd(kafka, dlqTopic, `claimchain.dlq-reader.${uuidv4()}`, async (l) => void letters.push(l), false);
  return letters;
}

/**
 * Sends every not-yet-replayed dead letter back to its original topic, unchanged but for an `x-dlq-replayed-from`
 * header, and remembers (in REPLAYER_GROUP) how far it got. Consumers' inboxes make a replay of something that was
 * in fact processed harmless. Returns how many it replayed.
 */
export async function replayDeadLetters(kafka: Kafka, dlqTopic: string): Promise<number> {
  const producer = kafka.producer(IDEMPOTENT_PRODUCER);
  await producer.connect();
  let replayed = 0;
  try {
    await readToEnd(
      kafka,
      dlqTopic,
      REPLAYER_GROUP,
      async (letter) => {
        const original = letter.headers['x-dlq-original-topic'] ?? dlqTopic.replace(/\.dlq$/, '');
        const headers = Object.fromEntries(Object.entries(letter.headers).filter(([k]) => !k.startsWith('x-dlq-')));
        await producer.send({
          topic: original,
          acks: -1,
          messages: [
            {
              key: letter.key,
              value: letter.value,
              headers: { ...headers, 'x-dlq-replayed-from': `${letter.dlqTopic}/${letter.partition}/${letter.offset}` },
            },
          ],
        });
        replayed += 1;
      },
      true,
    );
  } finally {
    await producer.disconnect();
  }
  return replayed;
}
