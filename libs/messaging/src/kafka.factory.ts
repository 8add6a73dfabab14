import { readFileSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { Kafka, KafkaConfig, logLevel, LogEntry, SASLOptions } from 'kafkajs';
import { KafkaSecurity } from '@claimchain/config';

/**
 * The only place that constructs a kafkajs client: kafkajs is unmaintained since 2023, so keeping it behind this
 * module (and the transport/relay beside it) is what lets us swap the client later.
 */
export function createKafka(clientId: string, brokers: string[], security: KafkaSecurity = {}): Kafka {
  const logger = new Logger(`kafka:${clientId}`);
  return new Kafka({
    clientId,
    brokers,
    ...kafkaSecurityOptions(security),
    logLevel: logLevel.WARN,
    // maxRetryTime: kafkajs' default (30 s) is also how long a consumer that gave up during a broker outage waits
    // before it starts again, so after a 60 s outage the flow resumed only 15–33 s after the broker was back (npm
    // run chaos). 5 s matches the consumers' own backoff cap for a dependency (ADR 8).
    retry: { initialRetryTime: 100, maxRetryTime: 5_000, retries: 8 },
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...extra } = log;
        const line = `${message} ${JSON.stringify(extra)}`;
        if (level === logLevel.ERROR) logger.error(line);
        else if (level === logLevel.WARN) logger.warn(line);
        else logger.debug(line);
      },
  });
}

/** kafkajs' ssl and sasl options from our settings: TLS with an optional extra CA, SASL PLAIN or SCRAM. */
export function kafkaSecurityOptions(security: KafkaSecurity): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const options: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (security.ssl) options.ssl = security.ssl.caFile ? { ca: [readFileSync(security.ssl.caFile, 'utf8')] } : true;
  if (security.sasl) {
    const { mechanism, username, password } = security.sasl;
    // kafkajs types each mechanism apart; the three share these fields.
    options.sasl = { mechanism, username, password } as SASLOptions;
  }
  return options;
}
