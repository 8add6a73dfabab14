import {
  DynamicModule,
  Injectable,
  INestApplication,
  Module,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { ServiceConfig } from '@claimchain/config';
import { createKafka } from './kafka.factory';
import { OutboxRelay } from './outbox.relay';
import { OutboxWriter } from './outbox.writer';
import { KafkaEventTransport } from './event-transport';

export const KAFKA = Symbol('KAFKA');

/**
 * Starts the relay when the app is up. Stops it before the shutdown hooks run, because TypeORM closes the
 * database in its onApplicationShutdown and the relay's last batch must still be able to commit.
 */
@Injectable()
class MessagingLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(private readonly relay: OutboxRelay) {}
  async onApplicationBootstrap(): Promise<void> {
    await this.relay.start();
  }
  async beforeApplicationShutdown(): Promise<void> {
    await this.relay.stop();
  }
}

/** Kafka client, outbox writer and relay, and the event transport for one service. */
@Module({})
export class MessagingModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      providers: [
        {
          provide: KAFKA,
          useFactory: () => createKafka(config.kafkaClientId, config.kafkaBrokers, config.kafkaSecurity),
        },
        OutboxWriter,
        {
          provide: OutboxRelay,
          inject: [DataSource, KAFKA],
          useFactory: (ds: DataSource, kafka: Kafka) => new OutboxRelay(ds, kafka),
        },
        {
          provide: KafkaEventTransport,
          inject: [DataSource, KAFKA],
          useFactory: (dataSource: DataSource, kafka: Kafka) =>
            new KafkaEventTransport({ kafka, dataSource, groupId: config.kafkaGroupId }),
        },
        MessagingLifecycle,
        {
          provide: MESSAGING_PROBES,
          inject: [OutboxRelay, KafkaEventTransport],
          useFactory: (relay: OutboxRelay, transport: KafkaEventTransport) => [
            { name: 'kafka-producer', isReady: () => relay.isPublishing },
            {
              name: 'kafka-consumer',
              isReady: () => transport.isReady,
              problem: () => {
                const waiting = transport.waiting;
                return waiting.length > 0 ? { reason: 'waiting for a dependency', waiting } : undefined;
              },
            },
          ],
        },
      ],
      exports: [KAFKA, OutboxWriter, OutboxRelay, KafkaEventTransport, MESSAGING_PROBES],
    };
  }
}

/** Makes the app hybrid: attaches the Kafka consumer to the HTTP app (call before app.init/listen). */
export function connectEventTransport(app: INestApplication): KafkaEventTransport {
  const transport = app.get(KafkaEventTransport);
  // inheritAppConfig: the app's global filter passes handler errors through to the transport unchanged.
  app.connectMicroservice({ strategy: transport }, { inheritAppConfig: true });
  return transport;
}

/** The state of this service's Kafka side, for the health module's pipeline check. */
export const MESSAGING_PROBES = Symbol('MESSAGING_PROBES');
