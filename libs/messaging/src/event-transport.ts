import { Logger } from '@nestjs/common';
import { BaseRpcContext, CustomTransportStrategy, MessageHandler, Server } from '@nestjs/microservices';
import { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { lastValueFrom } from 'rxjs';
import { DataSource, EntityManager } from 'typeorm';
import { CloudEvent, TopicName, dlqTopicOf, EventCatalog } from '@claimchain/contracts';
import { SchemaViolationError, parseEvent } from './event-codec';
import { BatchPart, GroupCommit } from './group-commit';
import { IDEMPOTENT_PRODUCER } from './outbox.relay';

/**
 * What a handler receives beside the event: the EntityManager of the transaction in which the inbox row is
 * written, so the handler's effects (and any outbox rows) commit together with "this event was processed".
 */
export class EventContext extends BaseRpcContext<
  [EntityManager, { topic: string; partition: number; offset: string }]
> {
  get em(): EntityManager {
    return this.args[0];
  }
  get origin(): { topic: string; partition: number; offset: string } {
    return this.args[1];
  }
}

/** Thrown by a handler for a failure retrying cannot fix: the message goes to the DLQ at once. */
export class PermanentEventError extends Error {}

export interface EventTransportOptions {
  kafka: Kafka;
  dataSource: DataSource;
  groupId: string;
  maxAttempts?: number;
  retryBaseMs?: number;
  partitionsConsumedConcurrently?: number;
  /**
   * How often consumed offsets are committed to Kafka (default 500 ms), off the fetch loop. kafkajs' autoCommit
   * would commit after every batch, a round trip to the group coordinator that every later event waits behind; the
   * inbox already makes a redelivery harmless, so a crash or rebalance replays at most this much, which it skips.
   */
  commitIntervalMs?: number;
}

export type DlqHeaders = {
  'x-dlq-reason': 'schema' | 'handler';
  'x-dlq-error': string;
  'x-dlq-original-topic': string;
  'x-dlq-original-partition': string;
  'x-dlq-original-offset': string;
  'x-dlq-attempts': string;
  'x-dlq-failed-at': string;
};

/**
 * The consuming half of messaging, as a Nest custom transport so each app is a hybrid (HTTP + Kafka) Nest app and
 * handlers are ordinary `@EventPattern(topic)` methods. Per message: parse and validate against the catalog (a
 * violation goes straight to `<topic>.dlq`), then run the handler inside a transaction that first records the event
 * id in the inbox (a redelivery is skipped), retrying a failing handler a bounded number of times before
 * dead-lettering it. Either way the offset moves on, so one bad message never blocks its partition.
 */
export class KafkaEventTransport extends Server implements CustomTransportStrategy {
  private readonly log = new Logger(KafkaEventTransport.name);
  private consumer?: Consumer;
  private dlqProducer?: Producer;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private ready = false;
  /** Commits every offset resolved and not yet committed (known once a batch has run). */
  private commitResolved?: () => Promise<void>;
  private commitTimer?: NodeJS.Timeout;
  private readonly groups = new Map<MessageHandler, GroupCommit>();
  private committing?: Promise<void>;

  constructor(private readonly options: EventTransportOptions) {
    super();
    this.maxAttempts = options.maxAttempts ?? 3;
    this.retryBaseMs = options.retryBaseMs ?? 100;
  }

  get isReady(): boolean {
    return this.ready;
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      await this.start();
      callback();
    } catch (error) {
      callback(error);
    }
  }

  private async start(): Promise<void> {
    const topics = [...this.messageHandlers.keys()];
    for (const topic of topics) {
      if (!(topic in EventCatalog)) throw new Error(`@EventPattern('${topic}') is not a topic in the catalog`);
    }
    if (topics.length === 0) return;
    const { kafka, groupId } = this.options;
    this.dlqProducer = kafka.producer(IDEMPOTENT_PRODUCER);
    await this.dlqProducer.connect();
    this.consumer = kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: 10000,
      heartbeatInterval: 1000,
    });
    // Ready once it holds partitions; not ready while crashed (kafkajs restarts it and it joins again).
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.ready = true;
    });
    this.consumer.on(this.consumer.events.CRASH, () => {
      this.ready = false;
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics, fromBeginning: true });
    this.commitTimer = setInterval(() => void this.commitNow(), this.options.commitIntervalMs ?? 500);
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      eachBatch: async (payload) => this.processBatch(payload),
    });
  }

  private isBatchHandler(handler: MessageHandler | null): boolean {
    return (handler?.extras as { batch?: boolean } | undefined)?.batch === true;
  }

  /**
   * A batch handler gets every new event of a Kafka batch in one transaction (one inbox INSERT, one handler call);
   * if the batch keeps failing it is replayed message by message, so only the poison message is dead-lettered.
   * Other handlers get one event per transaction.
   */
  private async processBatch(payload: EachBatchPayload): Promise<void> {
    // Only what handleBatch resolved (processed or dead-lettered) is ever committed, by commitNow.
    this.commitResolved = () => payload.commitOffsetsIfNecessary(payload.uncommittedOffsets());
    await this.handleBatch(payload);
  }

  /** One commit at a time; a refusal (a rebalance under way) is retried on the next tick or left to the inbox. */
  private async commitNow(): Promise<void> {
    if (this.committing || !this.commitResolved) return this.committing;
    this.committing = this.commitResolved()
      .catch((error: unknown) => this.log.debug(`offset commit deferred: ${String(error)}`))
      .finally(() => (this.committing = undefined));
    return this.committing;
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const topic = batch.topic as TopicName;
    const handler = this.getHandlerByPattern(topic);
    if (!this.isBatchHandler(handler)) {
      for (const message of batch.messages) {
        if (!isRunning() || isStale()) return;
        await this.processOne(topic, batch.partition, message);
        resolveOffset(message.offset);
        await heartbeat();
      }
      return;
    }
    const valid: { message: KafkaMessage; event: CloudEvent }[] = [];
    for (const message of batch.messages) {
      const event = await this.parseOrDeadLetter(topic, batch.partition, message);
      if (event) valid.push({ message, event });
    }
    const origin = { topic, partition: batch.partition, offset: batch.firstOffset() ?? '0' };
    const events = valid.map((v) => v.event);
    // First together with the other partitions' batches for this handler (one transaction for all of them), then,
    // if that failed, this batch alone with retries, then message by message so only a poison message is dead-lettered.
    let ok = events.length === 0 || (await this.groupOf(handler!).commit({ topic, events, origin }));
    if (!ok && events.length > 1) {
      ok = (
        await this.withRetries(`${topic}[${batch.partition}] batch of ${events.length}`, () =>
          this.runInInbox(handler!, [{ topic, events, origin }]),
        )
      ).ok;
    }
    if (!ok) {
      this.log.warn(`${topic}[${batch.partition}]: batch failed, replaying its messages one by one`);
      for (const { message, event } of valid) {
        if (!isRunning() || isStale()) return;
        await this.handleOne(topic, batch.partition, message, event);
        resolveOffset(message.offset);
        await heartbeat();
      }
    }
    resolveOffset(batch.lastOffset());
    await heartbeat();
  }

  /** The group commit of a batch handler: the batches of every partition that arrive together share a transaction. */
  private groupOf(handler: MessageHandler): GroupCommit {
    let group = this.groups.get(handler);
    if (!group) {
      group = new GroupCommit((parts) => this.runInInbox(handler, parts));
      this.groups.set(handler, group);
    }
    return group;
  }

  private async processOne(topic: TopicName, partition: number, message: KafkaMessage): Promise<void> {
    const event = await this.parseOrDeadLetter(topic, partition, message);
    if (event) await this.handleOne(topic, partition, message, event);
  }

  private async handleOne(
    topic: TopicName,
    partition: number,
    message: KafkaMessage,
    event: CloudEvent,
  ): Promise<void> {
    const handler = this.getHandlerByPattern(topic);
    if (!handler) return;
    const origin = { topic, partition, offset: message.offset };
    const outcome = await this.withRetries(`${topic}[${partition}]@${message.offset}`, () =>
      this.runInInbox(handler, [{ topic, events: [event], origin }]),
    );
    if (!outcome.ok) await this.deadLetter(topic, partition, message, 'handler', outcome.error, outcome.attempts);
  }

  private async parseOrDeadLetter(
    topic: TopicName,
    partition: number,
    message: KafkaMessage,
  ): Promise<CloudEvent | undefined> {
    try {
      return parseEvent(topic, message.value);
    } catch (error) {
      if (!(error instanceof SchemaViolationError)) throw error;
      await this.deadLetter(topic, partition, message, 'schema', error, 0);
      return undefined;
    }
  }

  /**
   * The inbox and the handler's effects commit together; events already in the inbox are skipped. A batch handler
   * gets every part's new events in one call (the context names the first part's origin); any other handler gets
   * its one event.
   */
  private async runInInbox(handler: MessageHandler, parts: readonly BatchPart[]): Promise<void> {
    const events = parts.flatMap((p) => p.events);
    await this.options.dataSource.transaction(async (em) => {
      const inserted: { event_id: string }[] = await em.query(
        `INSERT INTO inbox (event_id, topic) SELECT * FROM unnest($1::uuid[], $2::text[])
         ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
        [events.map((e) => e.id), parts.flatMap((p) => p.events.map(() => p.topic))],
      );
      if (inserted.length === 0) return; // all already processed: a redelivery has no second effect
      const fresh = new Set(inserted.map((r) => r.event_id));
      const todo = events.filter((e) => fresh.delete(e.id));
      const ctx = new EventContext([em, parts[0].origin]);
      const result = this.isBatchHandler(handler) ? await handler(todo, ctx) : await handler(todo[0], ctx);
      await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
    });
  }

  /** Runs `work` up to maxAttempts times with exponential backoff; a PermanentEventError stops at once. */
  private async withRetries(
    what: string,
    work: () => Promise<void>,
  ): Promise<{ ok: true } | { ok: false; error: unknown; attempts: number }> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await work();
        return { ok: true };
      } catch (error) {
        if (error instanceof PermanentEventError || attempt >= this.maxAttempts) {
          return { ok: false, error, attempts: attempt };
        }
        this.log.warn(`${what} attempt ${attempt} failed: ${String(error)}`);
        await new Promise((resolve) => setTimeout(resolve, this.retryBaseMs * 2 ** (attempt - 1)));
      }
    }
  }

  private async deadLetter(
    topic: TopicName,
    partition: number,
    message: KafkaMessage,
    reason: DlqHeaders['x-dlq-reason'],
    error: unknown,
    attempts: number,
  ): Promise<void> {
    const detail = error instanceof Error ? error.message : String(error);
    this.log.error(`dead-lettering ${topic}[${partition}]@${message.offset} (${reason}): ${detail}`);
    const headers: DlqHeaders = {
      'x-dlq-reason': reason,
      'x-dlq-error': detail.slice(0, 4000),
      'x-dlq-original-topic': topic,
      'x-dlq-original-partition': String(partition),
      'x-dlq-original-offset': message.offset,
      'x-dlq-attempts': String(attempts),
      'x-dlq-failed-at': new Date().toISOString(),
    };
    await this.dlqProducer!.send({
      topic: dlqTopicOf(topic),
      acks: -1,
      messages: [{ key: message.key, value: message.value, headers: { ...(message.headers as IHeaders), ...headers } }],
    });
  }

  async close(): Promise<void> {
    this.ready = false;
    clearInterval(this.commitTimer);
    await this.committing;
    await this.commitNow(); // what the last batches resolved, so a restart does not replay it
    await this.consumer?.disconnect();
    await this.dlqProducer?.disconnect();
    this.consumer = undefined;
    this.dlqProducer = undefined;
  }

  on(): never {
    throw new Error('KafkaEventTransport does not emit transport events');
  }

  unwrap<T>(): T {
    return this.consumer as T;
  }
}
