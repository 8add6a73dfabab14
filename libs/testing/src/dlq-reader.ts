import { Consumer, Kafka } from 'kafkajs';
import { v4 as uuidv4 } from 'uuid';

export interface DeadLetter {
  key: string | undefined;
  value: string | undefined;
  headers: Record<string, string>;
}

/** Follows a DLQ topic from the start with a throwaway group and collects what lands there. */
export async function dlqReader(
  kafka: Kafka,
  dlqTopic: string,
): Promise<{ messages: DeadLetter[]; stop(): Promise<void> }> {
  const consumer: Consumer = kafka.consumer({ groupId: `dlq-reader-${uuidv4()}` });
  const messages: DeadLetter[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic: dlqTopic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      messages.push({ key: message.key?.toString(), value: message.value?.toString(), headers });
    },
  });
  return { messages, stop: () => consumer.disconnect() };
}
