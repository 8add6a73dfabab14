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
import { MetricsModule, MetricsRegistry } from '@claimchain/observability';
import { createKafka } from './kafka.factory';
import { OutboxRelay } from './outbox.relay';
import { OutboxWriter } from './outbox.writer';
import { KafkaEventTransport } from './event-transport';
import { inboxRetention, outboxRetention, RetentionPruner, RetentionRule } from './retention.pruner';
import { ConsumerLagSampler, EventMetrics, registerOutboxMetrics } from './messaging.metrics';
import { EventAuthenticator, eventAuthenticatorOf, EventSigner, eventSignerOf } from './event-signature';

export const KAFKA = Symbol('KAFKA');

/**
 * Starts the relay and the pruner when the app is up. Stops them before the shutdown hooks run, because TypeORM
 * closes the database in its onApplicationShutdown and the relay's last batch must still be able to commit.
 */
@Injectable()
class MessagingLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly relay: OutboxRelay,
    private readonly pruner: RetentionPruner,
    private readonly lag: ConsumerLagSampler,
  ) {}
  async onApplicationBootstrap(): Promise<void> {
    await this.relay.start();
    this.pruner.start();
  }
  async beforeApplicationShutdown(): Promise<void> {
    await this.pruner.stop();
    await this.relay.stop();
    await this.lag.close();
  }
}

export interface MessagingOptions {
  /** Outbox topics whose published rows are kept for good (see outboxRetention). */
  keepOutboxTopics?: readonly string[];
  /** The service's own tables to prune beside the outbox and inbox (an Idempotency-Key table, …). */
  retention?: readonly RetentionRule[];
}

/**
 * Kafka client, outbox writer and relay, the event transport, and the retention pruner for one service; and the
 * service's metrics (MetricsModule), which every service has since every service runs messaging: consumed events by
 * outcome, consumer lag, the outbox backlog.
 */
@Module({})
export class MessagingModule {
  static forRoot(config: ServiceConfig, options: MessagingOptions = {}): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      imports: [MetricsModule.forRoot(config.service)],
      providers: [
        {
          provide: KAFKA,
          useFactory: () => createKafka(config.kafkaClientId, config.kafkaBrokers, config.kafkaSecurity),
        },
        // Read at start: a service without its signing key or the producers' verifier keys does not start (ADR 18).
        { provide: EventSigner, useFactory: () => eventSignerOf(config.service, config.events) },
        { provide: EventAuthenticator, useFactory: () => eventAuthenticatorOf(config.events) },
        OutboxWriter,
        {
          provide: OutboxRelay,
          inject: [DataSource, KAFKA, MetricsRegistry],
          useFactory: (ds: DataSource, kafka: Kafka, registry: MetricsRegistry) => {
            registerOutboxMetrics(registry, ds);
            return new OutboxRelay(ds, kafka);
          },
        },
        {
          provide: KafkaEventTransport,
          inject: [DataSource, KAFKA, MetricsRegistry, EventAuthenticator],
          useFactory: (dataSource: DataSource, kafka: Kafka, registry: MetricsRegistry, auth: EventAuthenticator) =>
            new KafkaEventTransport({
              kafka,
              dataSource,
              groupId: config.kafkaGroupId,
              metrics: new EventMetrics(registry),
              authenticator: auth,
            }),
        },
        {
          provide: ConsumerLagSampler,
          inject: [KAFKA, MetricsRegistry, KafkaEventTransport],
          useFactory: (kafka: Kafka, registry: MetricsRegistry, transport: KafkaEventTransport) =>
            new ConsumerLagSampler(registry, kafka, config.kafkaGroupId, () => transport.topics),
        },
        {
          provide: RetentionPruner,
          inject: [DataSource],
          useFactory: (ds: DataSource) =>
            new RetentionPruner(
              ds,
              [
                outboxRetention(config.retention.outboxMs, options.keepOutboxTopics),
                inboxRetention(config.retention.inboxMs),
                ...(options.retention ?? []),
              ],
              { intervalMs: config.retention.pruneIntervalMs, batchSize: config.retention.pruneBatchSize },
            ),
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
      exports: [KAFKA, EventSigner, OutboxWriter, OutboxRelay, KafkaEventTransport, RetentionPruner, MESSAGING_PROBES],
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
