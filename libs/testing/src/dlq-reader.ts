import { Consumer, Kafka } from 'kafkajs';
import { v4 as uuidv4 } from 'uuid';

export interface DeadLetter {
  key: string | undefined;
  value: string | undefined;
  headers: Record<string, string>;
}

/**
 * Follows DLQ topics from the start with a throwaway group and collects what lands there (`x-dlq-original-topic`
 * says where from). One reader for many topics joins its group once, which takes seconds.
 */
export async function dlqReader(
  kafka: Kafka,
  dlqTopic: string | string[],
): Promise<{ messages: DeadLetter[]; stop(): Promise<void> }> {
  const consumer: Consumer = kafka.consumer({ groupId: `dlq-reader-${uuidv4()}` });
  const messages: DeadLetter[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: Array.isArray(dlqTopic) ? dlqTopic : [dlqTopic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      messages.push({ key: message.key?.toString(), value: message.value?.toString(), headers });
    },
  });
  return { messages, stop: () => consumer.disconnect() };
}
