/**
 * Ops command for dead letters: `npm run dlq -- list <topic>` prints what sits in `<topic>.dlq` (with the error that
 * put it there); `npm run dlq -- replay <topic>` sends the letters not yet replayed back to `<topic>` once the cause
 * is fixed. KAFKA_BROKERS selects the cluster (default 127.0.0.1:9092).
 */
import { parseArgs } from 'node:util';
import { loadKafkaConnection } from '@claimchain/config';
import { ALL_TOPICS, dlqTopicOf, TopicName } from '@claimchain/wire';
import { createKafka, listDeadLetters, replayDeadLetters } from '@claimchain/messaging';

const USAGE = `usage: npm run dlq -- <list|replay> <topic>
topics: ${ALL_TOPICS.join(', ')}`;

async function main(): Promise<number> {
  const { positionals } = parseArgs({ allowPositionals: true, options: {} });
  const [command, topic] = positionals;
  if (!['list', 'replay'].includes(command) || !ALL_TOPICS.includes(topic as TopicName)) {
    console.error(USAGE);
    return 2;
  }
  const { brokers, security } = loadKafkaConnection();
  const kafka = createKafka('claimchain-dlq', brokers, security);
  const dlq = dlqTopicOf(topic as TopicName);
  if (command === 'list') {
    const letters = await listDeadLetters(kafka, dlq);
    for (const l of letters) {
      const h = l.headers;
      console.log(
        `${dlq}/${l.partition}@${l.offset} key=${l.key} from ${h['x-dlq-original-topic']}/${h['x-dlq-original-partition']}` +
          `@${h['x-dlq-original-offset']} ${h['x-dlq-reason']} by ${h['x-dlq-consumer-group'] ?? '?'} ` +
          `after ${h['x-dlq-attempts']} attempt(s) at ` +
          `${h['x-dlq-failed-at']}: ${h['x-dlq-error']}`,
      );
    }
    console.log(`${letters.length} dead letter(s) on ${dlq}`);
  } else {
    const replayed = await replayDeadLetters(kafka, dlq);
    console.log(`replayed ${replayed} dead letter(s) from ${dlq} to ${topic}`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`dlq failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
