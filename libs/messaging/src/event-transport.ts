import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { BaseRpcContext, CustomTransportStrategy, MessageHandler, Server } from '@nestjs/microservices';
import { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { lastValueFrom } from 'rxjs';
import { DataSource, EntityManager } from 'typeorm';
import { CloudEvent, TopicName, dlqTopicOf, EventCatalog } from '@claimchain/wire';
import { runWithLogContext } from '@claimchain/http';
import {
  contextOf,
  isSampledTraceparent,
  spanContextOf,
  spanLinkLimit,
  traceparentOfSpan,
  tracer,
  tracingEnabled,
} from '@claimchain/observability';
import { context, Link, Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { SchemaViolationError, checkSubject, parseEnvelopeJson, validateEvent } from './event-codec';
import { EventAuthenticator, EventSignatureError } from './event-signature';
import { classifyFailure, PermanentEventError } from './failure';
import { BatchPart, GroupCommit } from './group-commit';
import { IDEMPOTENT_PRODUCER } from './outbox.relay';
import { EventMetrics } from './messaging.metrics';
import { consumedTraceparentOf, noteConsumedTraceparent, rememberEventTrace } from './event-tracing';

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

/**
 * `@EventPattern(topics, extras)`: `batch` hands the handler every new event of a group commit at once (an array, in
 * one transaction); `accepts` filters events before the inbox, so an event the service ignores costs neither an
 * inbox row nor a place in a transaction.
 */
export interface HandlerExtras {
  batch?: boolean;
  accepts?: (event: CloudEvent) => boolean;
}

export interface EventTransportOptions {
  kafka: Kafka;
  dataSource: DataSource;
  groupId: string;
  /** Attempts at an event whose failure is unclassified before it is dead-lettered (default 5). */
  maxAttempts?: number;
  /** Backoff between attempts: min(base · 2^(n-1), max); defaults 100 ms and 5 s. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  partitionsConsumedConcurrently?: number;
  /**
   * How often consumed offsets are committed to Kafka (default 500 ms), off the fetch loop. kafkajs' autoCommit
   * would commit after every batch, a round trip to the group coordinator that every later event waits behind; the
   * inbox already makes a redelivery harmless, so a crash or rebalance replays at most this much, which it skips.
   */
  commitIntervalMs?: number;
  /** Where outcomes are counted (the service's registry); a registry of its own when not given. */
  metrics?: EventMetrics;
  /** Which producers' keys sign which topics (ADR 18): an event its topic's owner did not sign is dead-lettered. */
  authenticator: EventAuthenticator;
}

/** Why a message was dead-lettered: its schema, its signature (not its topic owner's, ADR 18), or its handler. */
export type DeadLetterReason = 'schema' | 'signature' | 'handler';

export type DlqHeaders = {
  'x-dlq-reason': DeadLetterReason;
  'x-dlq-error': string;
  'x-dlq-original-topic': string;
  'x-dlq-original-partition': string;
  'x-dlq-original-offset': string;
  'x-dlq-attempts': string;
  'x-dlq-failed-at': string;
  /** The consumer group that refused it: every consumer of a topic dead-letters a forged event on its own. */
  'x-dlq-consumer-group': string;
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
  private readonly retryMaxMs: number;
  private ready = false;
  /** Work held up by a transient failure, by where it is: what /health/pipeline reports. */
  private readonly waitingOn = new Map<string, { since: Date; error: string }>();
  /** Commits every offset resolved and not yet committed (known once a batch has run). */
  private commitResolved?: () => Promise<void>;
  private commitTimer?: NodeJS.Timeout;
  private readonly groups = new Map<object, GroupCommit>();
  private committing?: Promise<void>;
  /** The background connection (see listen), and how to cut its backoff short when the app closes. */
  private connecting?: Promise<void>;
  private wakeConnect?: () => void;
  private closed = false;
  private readonly metrics: EventMetrics;

  constructor(private readonly options: EventTransportOptions) {
    super();
    this.metrics = options.metrics ?? new EventMetrics(new Registry());
    this.maxAttempts = options.maxAttempts ?? 5;
    this.retryBaseMs = options.retryBaseMs ?? 100;
    this.retryMaxMs = options.retryMaxMs ?? 5000;
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** The consumer group (what `x-dlq-consumer-group` names on the letters this consumer dead-letters). */
  get groupId(): string {
    return this.options.groupId;
  }

  /** The topics the handlers consume (what the consumer subscribes to). */
  get topics(): string[] {
    return [...this.messageHandlers.keys()];
  }

  /** Partitions (or messages) held up by a transient failure, oldest first; empty when everything flows. */
  get waiting(): { where: string; since: Date; error: string }[] {
    return [...this.waitingOn].map(([where, w]) => ({ where, ...w }));
  }

  /**
   * Reports the transport started as soon as its handlers are known to be valid, and connects to Kafka in the
   * background, for as long as it takes: a service that starts while the broker is away serves its API at once (its
   * writes wait in the outbox, as during any broker outage) and joins its group when the broker is back, instead of
   * exiting and being restarted with a growing backoff. Meanwhile `/health/pipeline` names the wait.
   */
  async listen(callback: (error?: unknown) => void): Promise<void> {
    const topics = [...this.messageHandlers.keys()];
    const unknown = topics.find((topic) => !(topic in EventCatalog));
    if (unknown) return callback(new Error(`@EventPattern('${unknown}') is not a topic in the catalog`));
    callback();
    if (topics.length > 0) this.connecting = this.connectUntilJoined(topics);
  }

  private async connectUntilJoined(topics: string[]): Promise<void> {
    const what = 'kafka connection';
    for (let attempt = 1; !this.closed; attempt += 1) {
      try {
        await this.start(topics);
        this.stopWaiting(what, attempt);
        return;
      } catch (error) {
        await this.disconnectClients();
        if (this.closed) return;
        const delay = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** Math.min(attempt - 1, 16));
        if (!this.waitingOn.has(what)) this.waitingOn.set(what, { since: new Date(), error: String(error) });
        this.log.warn(`${what}: cannot reach Kafka yet (attempt ${attempt}, next in ${delay} ms): ${String(error)}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wakeConnect = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  private async start(topics: string[]): Promise<void> {
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
    this.commitTimer ??= setInterval(() => void this.commitNow(), this.options.commitIntervalMs ?? 500);
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      eachBatch: async (payload) => this.processBatch(payload),
    });
  }

  private async disconnectClients(): Promise<void> {
    const [consumer, producer] = [this.consumer, this.dlqProducer];
    this.consumer = undefined;
    this.dlqProducer = undefined;
    await consumer?.disconnect().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
  }

  private isBatchHandler(handler: MessageHandler | null): boolean {
    return (handler?.extras as HandlerExtras | undefined)?.batch === true;
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

  /**
   * Handles one partition's fetched messages. A batch handler gets every new event in one transaction, shared with
   * the other partitions' batches that arrive meanwhile (GroupCommit); any other handler gets one event per
   * transaction. A transient failure (ADR 8) holds the partition and retries the same work until it succeeds; any
   * other failure of a batch replays it message by message, so only the message that keeps failing is dead-lettered.
   */
  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const live = () => isRunning() && !isStale();
    const topic = batch.topic as TopicName;
    const handler = this.getHandlerByPattern(topic);
    if (!handler) return;
    const accepts = this.acceptorOf(handler);
    const valid: { message: KafkaMessage; event: CloudEvent; fingerprint: Buffer }[] = [];
    let ignored = 0;
    const traced = tracingEnabled();
    for (const message of batch.messages) {
      const parsed = await this.parseOrDeadLetter(topic, batch.partition, message);
      if (!parsed) continue;
      if (traced) noteConsumedTraceparent(parsed.event, firstHeader(message.headers?.traceparent));
      // Only what the handler takes is authenticated (an ignored event has no effect): Ed25519 verification is the
      // dearest step of consuming (ADR 18), and payout, say, ignores most of the ledger's notices.
      if (!accepts(parsed.event)) ignored += 1;
      else if (
        (await this.authenticOrDeadLetter(topic, batch.partition, message, parsed.envelope)) &&
        (await this.keepsSubjectRuleOrDeadLetter(topic, batch.partition, message, parsed.event))
      ) {
        valid.push({ message, event: parsed.event, fingerprint: fingerprintOf(message) });
      }
    }
    this.metrics.count(topic, 'ignored', ignored);
    if (valid.length > 0 && this.isBatchHandler(handler)) {
      const origin = { topic, partition: batch.partition, offset: batch.firstOffset() ?? '0' };
      const part = { topic, events: valid.map((v) => v.event), fingerprints: valid.map((v) => v.fingerprint), origin };
      const where = `${topic}[${batch.partition}] batch of ${valid.length}`;
      // Together with the other partitions' batches first; if that fails for a reason other than a dependency, this
      // batch alone (another partition's poison must not fail it); then message by message.
      const steps = [() => this.groupOf(handler).commit(part), () => this.runInInbox(handler, [part])];
      for (const step of steps) {
        const outcome = await this.untilNotTransient(topic, where, live, heartbeat, step, 1);
        if (outcome === 'stopped') return;
        if (outcome === 'done') {
          resolveOffset(batch.lastOffset());
          await heartbeat();
          return;
        }
        this.log.warn(`${where} failed: ${String(outcome.error)}`);
      }
      this.log.warn(`${where}: replaying its messages one by one`);
    }
    for (const { message, event, fingerprint } of valid) {
      if (!live()) return;
      const where = `${topic}[${batch.partition}]@${message.offset}`;
      const origin = { topic, partition: batch.partition, offset: message.offset };
      const outcome = await this.untilNotTransient(topic, where, live, heartbeat, () =>
        this.runInInbox(handler, [{ topic, events: [event], fingerprints: [fingerprint], origin }]),
      );
      if (outcome === 'stopped') return;
      if (outcome !== 'done') {
        await this.deadLetter(topic, batch.partition, message, 'handler', outcome.error, outcome.attempts);
      }
      resolveOffset(message.offset);
      await heartbeat();
    }
    resolveOffset(batch.lastOffset());
    await heartbeat();
  }

  /**
   * Runs `work` until it succeeds, fails permanently (at once), or fails unclassified `unclassifiedAttempts` times; a
   * transient failure is retried with capped exponential backoff for as long as it lasts, heartbeating so the group
   * keeps this member, and is reported by `waiting` meanwhile. Stops (without an outcome) when the partition is
   * revoked or the consumer stops.
   */
  private async untilNotTransient(
    topic: TopicName,
    what: string,
    live: () => boolean,
    heartbeat: () => Promise<void>,
    work: () => Promise<void>,
    unclassifiedAttempts = this.maxAttempts,
  ): Promise<'done' | 'stopped' | { error: unknown; attempts: number }> {
    let unclassified = 0;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.heartbeatWhile(heartbeat, work());
        this.stopWaiting(what, attempt);
        return 'done';
      } catch (error) {
        const kind = classifyFailure(error);
        if (kind === 'permanent') {
          this.stopWaiting(what, attempt);
          return { error, attempts: attempt };
        }
        if (kind === 'unclassified' && (unclassified += 1) >= unclassifiedAttempts) {
          this.stopWaiting(what, attempt);
          return { error, attempts: attempt };
        }
        const delay = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** Math.min(attempt - 1, 16));
        this.metrics.count(topic, 'retried');
        if (kind === 'transient') {
          if (!this.waitingOn.has(what)) this.waitingOn.set(what, { since: new Date(), error: String(error) });
          this.log.warn(
            `${what}: waiting for a dependency (attempt ${attempt}, next in ${delay} ms): ${String(error)}`,
          );
        } else {
          this.log.warn(`${what} attempt ${attempt} failed (unclassified, next in ${delay} ms): ${String(error)}`);
        }
        await this.pause(delay, live, heartbeat);
        if (!live()) return 'stopped';
      }
    }
  }

  /**
   * kafkajs heartbeats only when asked; a long transaction (a large group commit on a busy machine) must not let the
   * session time out, or the member is evicted and its partitions' work is redone elsewhere.
   */
  private async heartbeatWhile<T>(heartbeat: () => Promise<void>, work: Promise<T>): Promise<T> {
    const timer = setInterval(() => void heartbeat().catch(() => undefined), 1000);
    try {
      return await work;
    } finally {
      clearInterval(timer);
    }
  }

  private stopWaiting(what: string, attempts: number): void {
    const waited = this.waitingOn.get(what);
    if (!waited) return;
    this.waitingOn.delete(what);
    const seconds = ((Date.now() - waited.since.getTime()) / 1000).toFixed(1);
    this.log.log(`${what}: dependency back after ${seconds} s and ${attempts} attempt(s)`);
  }

  /** Sleeps `ms` in slices, heartbeating between them; ends early once the partition is no longer ours. */
  private async pause(ms: number, live: () => boolean, heartbeat: () => Promise<void>): Promise<void> {
    const until = Date.now() + ms;
    while (live() && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, until - Date.now())));
      // A failed heartbeat (the broker away, a rebalance) is not ours to handle here: kafkajs rejoins by itself.
      await heartbeat().catch(() => undefined);
    }
  }

  /** The group commit of a batch handler: the batches of every partition that arrive together share a transaction. */
  private groupOf(handler: MessageHandler): GroupCommit {
    // Nest registers one handler function per topic of an @EventPattern([...topics]); they share its extras object,
    // so keying by it puts all of one method's topics in one group (one transaction at a time for that method).
    const key = handler.extras ?? handler;
    let group = this.groups.get(key);
    if (!group) {
      group = new GroupCommit((parts) => this.runInInbox(handler, parts));
      this.groups.set(key, group);
    }
    return group;
  }

  private acceptorOf(handler: MessageHandler): (event: CloudEvent) => boolean {
    return (handler.extras as HandlerExtras | undefined)?.accepts ?? (() => true);
  }

  private async parseOrDeadLetter(
    topic: TopicName,
    partition: number,
    message: KafkaMessage,
  ): Promise<{ event: CloudEvent; envelope: Record<string, unknown> } | undefined> {
    try {
      const envelope = parseEnvelopeJson(topic, message.value);
      return { event: validateEvent(topic, envelope), envelope };
    } catch (error) {
      if (!(error instanceof SchemaViolationError)) throw error;
      await this.deadLetter(topic, partition, message, 'schema', error, 0);
      return undefined;
    }
  }

  /** Whether an authentic event's subject agrees with the claim its data names (checkSubject); if not, a schema DLQ. */
  private async keepsSubjectRuleOrDeadLetter(
    topic: TopicName,
    partition: number,
    message: KafkaMessage,
    event: CloudEvent,
  ): Promise<boolean> {
    try {
      checkSubject(topic, event);
      return true;
    } catch (error) {
      if (!(error instanceof SchemaViolationError)) throw error;
      await this.deadLetter(topic, partition, message, 'schema', error, 0);
      return false;
    }
  }

  /**
   * Whether the envelope (as sent: every attribute, known or not) is signed by its topic's owner (ADR 18). If not,
   * it is dead-lettered at once, loudly: someone who can write to the topic produced it without its owner's key.
   */
  private async authenticOrDeadLetter(
    topic: TopicName,
    partition: number,
    message: KafkaMessage,
    envelope: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      this.options.authenticator.verify(topic, envelope);
      return true;
    } catch (error) {
      if (!(error instanceof EventSignatureError)) throw error;
      this.log.error(`ALERT event not authentic: ${topic}[${partition}]@${message.offset}: ${error.message}`);
      await this.deadLetter(topic, partition, message, 'signature', error, 0);
      return false;
    }
  }

  /**
   * The inbox and the handler's effects commit together; events already in the inbox are skipped. A batch handler
   * gets every part's new events in one call (the context names the first part's origin); any other handler gets
   * its one event. An id already in the inbox with another fingerprint is not a redelivery but a different event
   * reusing the id: that fails permanently (so the batch is replayed one by one and only that message is
   * dead-lettered) rather than being skipped as a duplicate.
   */
  private async runInInbox(handler: MessageHandler, parts: readonly BatchPart[]): Promise<void> {
    const span = tracingEnabled() ? this.consumerSpan(parts) : undefined;
    try {
      await this.runInInboxTraced(handler, parts, span);
    } catch (error) {
      if (span?.isRecording()) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
      }
      span?.end();
      throw error;
    }
    span?.end();
  }

  /**
   * One CONSUMER span per batch handed to the handler (ADR 20), however many events it holds: a span per event made
   * the read-model consumers, which take hundreds of events a call, spend more on tracing than on their work. Its
   * parent is the `traceparent` of the batch's first sampled event (so it is recorded when any of its events' traces
   * is, and sits in that claim's trace); when recorded it links to every sampled event's context (OTel span links, up to
   * OTEL_SPAN_LINK_COUNT_LIMIT, 128 by default), each link naming its event. Each event is remembered with the
   * `traceparent` it continues (this span's for the parent event or a batch of one, else its own header's), so an
   * event built with it as `causationid` stays in its claim's trace (event-tracing.ts). Unrecorded (sampled out),
   * nothing is done per event but that remembering. Another attempt at the same work makes a new span; a failed one
   * ends with an error status.
   */
  private consumerSpan(parts: readonly BatchPart[]): Span {
    let parentEvent: CloudEvent | undefined;
    let parent: string | undefined;
    for (const part of parts) {
      for (const event of part.events) {
        const traceparent = consumedTraceparentOf(event);
        if (!traceparent) continue;
        if (isSampledTraceparent(traceparent)) {
          [parentEvent, parent] = [event, traceparent];
          break;
        }
        if (!parent) [parentEvent, parent] = [event, traceparent];
      }
      if (parent && isSampledTraceparent(parent)) break;
    }
    const topics = [...new Set(parts.map((p) => p.topic))].join(',');
    const span = tracer().startSpan(`${topics} process`, { kind: SpanKind.CONSUMER }, contextOf(parent));
    const count = parts.reduce((n, p) => n + p.events.length, 0);
    const own = traceparentOfSpan(span);
    if (span.isRecording()) {
      span.setAttributes({
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': topics,
        'messaging.consumer.group.name': this.options.groupId,
        'messaging.batch.message_count': count,
      });
      // Links to the sampled events only (the others' traces are not recorded), no more than the span keeps.
      const links: Link[] = [];
      const limit = spanLinkLimit();
      for (const part of parts) {
        for (const event of part.events) {
          if (links.length >= limit) break;
          const traceparent = consumedTraceparentOf(event);
          const linked = traceparent && isSampledTraceparent(traceparent) && spanContextOf(traceparent);
          if (!linked) continue;
          links.push({
            context: linked,
            attributes: {
              'messaging.destination.name': part.topic,
              'messaging.message.id': event.id,
              'cloudevents.event_type': event.type,
              'cloudevents.event_subject': event.subject,
            },
          });
        }
      }
      span.addLinks(links);
    }
    for (const part of parts) {
      for (const event of part.events) {
        const traceparent = count === 1 || event === parentEvent ? own : consumedTraceparentOf(event);
        rememberEventTrace(event.id, traceparent ?? own);
      }
    }
    return span;
  }

  private async runInInboxTraced(
    handler: MessageHandler,
    parts: readonly BatchPart[],
    span: Span | undefined,
  ): Promise<void> {
    const events = parts.flatMap((p) => p.events);
    let fresh = new Set<string>();
    await this.options.dataSource.transaction(async (em) => {
      // `seen.event_id = ANY($1)` makes Postgres read the batch's ids through the inbox's key. Joined only on the
      // input, the plan it cached for this statement while the inbox was small (a fresh database) scanned the whole
      // inbox on every batch, and the inbox grows by every event consumed (docs/performance.md).
      const rows: { event_id: string; fresh: boolean; reused: boolean }[] = await em.query(
        `WITH input AS (
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[]) AS i(event_id, topic, fingerprint)),
         inserted AS (
           INSERT INTO inbox (event_id, topic, fingerprint) SELECT event_id, topic, fingerprint FROM input
           ON CONFLICT (event_id) DO NOTHING RETURNING event_id)
         SELECT i.event_id::text AS event_id, n.event_id IS NOT NULL AS fresh,
                n.event_id IS NULL AND seen.fingerprint IS DISTINCT FROM i.fingerprint
                  AND seen.fingerprint IS NOT NULL AS reused
           FROM input i
           LEFT JOIN inserted n ON n.event_id = i.event_id
           LEFT JOIN inbox seen ON seen.event_id = i.event_id AND seen.event_id = ANY($1::uuid[])`,
        [
          events.map((e) => e.id),
          parts.flatMap((p) => p.events.map(() => p.topic)),
          parts.flatMap((p) => p.fingerprints),
        ],
      );
      const reused = rows.find((r) => r.reused);
      if (reused) {
        throw new PermanentEventError(`event id ${reused.event_id} was processed before with other content`);
      }
      fresh = new Set(rows.filter((r) => r.fresh).map((r) => r.event_id));
      if (fresh.size === 0) return; // all already processed: a redelivery has no second effect
      const unhandled = new Set(fresh);
      const todo = events.filter((e) => unhandled.delete(e.id)); // an id twice in the batch is handled once
      const ctx = new EventContext([em, parts[0].origin]);
      // What the handler logs names the event it handles: its id and its claim (the subject), when there is one.
      const one = todo.length === 1 ? todo[0] : undefined;
      const logged = one ? { eventId: one.id, claimId: one.subject } : { events: todo.length };
      const run = () =>
        runWithLogContext(logged, async () => {
          const result = this.isBatchHandler(handler) ? await handler(todo, ctx) : await handler(todo[0], ctx);
          await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
        });
      // The batch's span is the active one while it is handled (its log lines carry the trace id); the events the
      // handler builds find their own trace through causationid.
      await (span ? context.with(trace.setSpan(context.active(), span), run) : run());
    });
    if (span?.isRecording()) span.setAttribute('claimchain.duplicates', events.length - fresh.size);
    // Counted once committed: a transaction that failed and is retried counts its events once, when it succeeds.
    for (const part of parts) {
      const handled = part.events.reduce((n, e) => n + (fresh.delete(e.id) ? 1 : 0), 0);
      this.metrics.count(part.topic, 'handled', handled);
      this.metrics.count(part.topic, 'duplicate', part.events.length - handled);
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
      'x-dlq-consumer-group': this.options.groupId,
    };
    await this.dlqProducer!.send({
      topic: dlqTopicOf(topic),
      acks: -1,
      messages: [{ key: message.key, value: message.value, headers: { ...(message.headers as IHeaders), ...headers } }],
    });
    this.metrics.count(topic, 'dead_lettered', 1, reason);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.ready = false;
    this.wakeConnect?.();
    await this.connecting;
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

/** What tells a redelivery (the same bytes) from another event reusing an id: the SHA-256 of the message value. */
function fingerprintOf(message: KafkaMessage): Buffer {
  return createHash('sha256')
    .update(message.value ?? Buffer.alloc(0))
    .digest();
}

/** A header's value as kafkajs hands it (one value, or the first of several). */
function firstHeader(value: Buffer | string | (Buffer | string)[] | undefined): Buffer | string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
