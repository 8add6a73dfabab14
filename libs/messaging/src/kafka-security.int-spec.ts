import { v4 as uuidv4 } from 'uuid';
import { Kafka } from 'kafkajs';
import { loadServiceConfig } from '@claimchain/config';
import { Topics } from '@claimchain/wire';
import { createKafka } from '@claimchain/messaging';
import { waitFor } from '@claimchain/testing';

/**
 * The clients' SASL settings against a real listener that requires SASL/PLAIN (the test broker opens one next to
 * its plaintext listener; see test/global-setup.ts), configured the way an operator does: KAFKA_SASL_* variables.
 */
describe('Kafka with SASL authentication', () => {
  const listener = JSON.parse(process.env.CLAIMCHAIN_TEST_KAFKA_SASL ?? 'null') as {
    brokers: string[];
    username: string;
    password: string;
  } | null;
  if (!listener) throw new Error('the test broker has no SASL listener (KAFKA_BROKERS points at another broker)');

  const kafkaWith = (password: string): Kafka => {
    const config = loadServiceConfig('payout', {
      KAFKA_BROKERS: listener.brokers.join(','),
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: listener.username,
      KAFKA_SASL_PASSWORD: password,
    });
    return createKafka(`sasl-spec-${uuidv4()}`, config.kafkaBrokers, config.kafkaSecurity);
  };

  it('produces and consumes through the authenticated listener with the configured credentials', async () => {
    const kafka = kafkaWith(listener.password);
    const producer = kafka.producer();
    const consumer = kafka.consumer({ groupId: `sasl-spec-${uuidv4()}` });
    const key = uuidv4();
    const seen: string[] = [];
    try {
      await producer.connect();
      await consumer.connect();
      await consumer.subscribe({ topic: Topics.ClaimsSubmitted, fromBeginning: true });
      let joined = false;
      consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (message.key?.toString() === key) seen.push(message.value!.toString());
        },
      });
      await waitFor('the consumer to join its group', () => joined);
      await producer.send({ topic: Topics.ClaimsSubmitted, messages: [{ key, value: 'over SASL' }] });
      await waitFor('the message to come back', () => seen.length === 1);
      expect(seen).toEqual(['over SASL']);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  });

  it('is refused with a wrong password', async () => {
    const admin = kafkaWith('not-the-password').admin();
    await expect(admin.connect()).rejects.toThrow(/SASL|[Aa]uthentication/);
    await admin.disconnect();
  });
});
