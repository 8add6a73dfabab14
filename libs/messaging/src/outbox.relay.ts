import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CompressionTypes, Kafka, Producer, ProducerConfig } from 'kafkajs';
import { PoolClient } from 'pg';
import { listenOn } from './pg-listener';
import { Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  contextOf,
  isSampledTraceparent,
  spanContextOf,
  spanLinkLimit,
  tracer,
  tracingEnabled,
} from '@claimchain/observability';

/**
 * acks=all with broker-side deduplication of producer retries. kafkajs wants unbounded retries for an idempotent
 * producer (bounded ones can break its sequence numbers); a broker outage therefore stalls the relay rather than
 * failing it, and the rows simply wait in the outbox.
 */
export const IDEMPOTENT_PRODUCER: ProducerConfig = {
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 5000 },
};

/**
 * Broker answers after which the idempotent producer's sequence numbers or id no longer match the broker's state.
 * kafkajs does not recover from them: it sends the same sequence again for ever (seen after the broker was killed
 * with -9 in the middle of a produce, `npm run chaos`: claim-intake's relay refused with OUT_OF_ORDER_SEQUENCE_NUMBER
 * every 5 s until the service restarted). The relay then starts a new producer (a new producer id, sequences from
 * zero); the rows not yet marked published are sent again, which the consumers' inboxes make harmless.
 */
const PRODUCER_STATE_ERRORS = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
]);

/**
 * Whether the send failed on one of PRODUCER_STATE_ERRORS. kafkajs wraps a non-retriable protocol error (these all
 * are) in KafkaJSNonRetriableError, which keeps it as `cause`; an aggregate keeps its parts in `errors`.
 */
export function isProducerStateError(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 8) return false;
  const e = error as { type?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.type === 'string' && PRODUCER_STATE_ERRORS.has(e.type)) return true;
  const nested = [e.cause, ...(Array.isArray(e.errors) ? e.errors : [])];
  return nested.some((n) => n !== error && isProducerStateError(n, depth + 1));
}

/** How often the relay looks at the whole outbox rather than past its cursor (see OutboxRelay.cursor). */
const FULL_LOOK_EVERY_MS = 2000;
/**
 * How far behind its cursor the relay still looks on every drain: concurrent transactions commit out of seq order
 * all the time (a row of a lower seq commits just after a higher one was published), and waiting for the full look
 * would add up to FULL_LOOK_EVERY_MS to them. Rows further behind than this are rare and wait for the full look.
 */
const CURSOR_SLACK = 1024;

/** The channel outbox writes NOTIFY on commit. */
export const OUTBOX_CHANNEL = 'claimchain_outbox';

interface OutboxRow {
  seq: string;
  topic: string;
  message_key: string;
  payload: unknown;
  traceparent: string | null;
}

type OutboxMessage = { key: string; value: string; headers?: Record<string, string> };

export interface OutboxRelayOptions {
  batchSize?: number;
  idlePollMs?: number;
  /** Bytes of message values per produce request at most (default 512 KiB), under the broker's message.max.bytes. */
  maxRequestBytes?: number;
}

/**
 * Advisory lock id (a session lock, held by the relay's own connection): one relay per database publishes at a
 * time, so per-key order holds.
 */
export const RELAY_LOCK_ID = 0x6f7574626f78; // "outbox"

/**
 * Publishes outbox rows to Kafka in order, with an idempotent producer and acks=all, and marks them published only
 * once Kafka has them. A crash between send and mark re-sends those rows on restart: consumers deduplicate by event
 * id (the inbox), so delivery is at least once and effects are exactly once.
 *
 * No transaction spans the send: the relay's lock is a session lock held by a connection of its own (the one that
 * LISTENs), and rows are read, sent, then marked in statements of their own. So a broker outage, during which the
 * idempotent producer retries without end, holds no transaction and no row lock open in the service's database.
 */
export class OutboxRelay {
  private readonly logger = new Logger(OutboxRelay.name);
  private producer?: Producer;
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  /** Set by a NOTIFY from a committed outbox write; an idle relay drains at once instead of waiting to poll. */
  private notified = false;
  /** The relay's own connection: it LISTENs, and holds the relay lock once it has it. */
  private session?: PoolClient;
  private holdsLock = false;
  private readonly batchSize: number;
  private readonly idlePollMs: number;
  private readonly maxRequestBytes: number;
  /** Consecutive failed drains. */
  private failures = 0;
  /**
   * The highest seq published by this relay since it took the lock: a drain reads only past it, so it does not walk
   * the index entries of rows already published (they stay in the partial index until vacuum, and a relay draining
   * many times a second paid for each of them every time). A row of a lower seq that committed late is found within
   * CURSOR_SLACK of the cursor on the next drain, or by the full look every FULL_LOOK_EVERY_MS.
   */
  private cursor = '0';
  private lastFullLookAt = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly kafka: Kafka,
    options: OutboxRelayOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.idlePollMs = options.idlePollMs ?? 250;
    this.maxRequestBytes = options.maxRequestBytes ?? 512 * 1024;
  }

  /**
   * Running and its last drain succeeded. A drain fails when Postgres does or when the producer gives up; against an
   * unreachable broker the idempotent producer keeps retrying instead (see IDEMPOTENT_PRODUCER), so an outage shows
   * here only once a send fails, and on the consumer's probe.
   */
  get isPublishing(): boolean {
    return this.running && this.failures === 0;
  }

  async start(): Promise<void> {
    if (this.running) return;
    // A broker that is away now is not a reason to fail the service's start: the drain connects the producer (and
    // retries with backoff, reported by isPublishing) while the API keeps writing to the outbox.
    await this.renewProducer().catch((error: unknown) =>
      this.logger.warn(`outbox relay: cannot reach Kafka yet (${String(error)}); retrying`),
    );
    await this.connectSession().catch((error: unknown) =>
      this.logger.warn(`outbox relay session not connected yet (${String(error)}); retrying`),
    );
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.producer?.disconnect();
    this.producer = undefined;
    this.endSession();
  }

  /**
   * The relay's own connection. Outbox writes NOTIFY on commit (OutboxWriter); listening turns the relay's latency
   * from a polling interval into about one round trip, and polling stays as the fallback. Losing the connection
   * loses the lock with it (Postgres releases a session lock when its session ends), so the relay stops publishing
   * until it has a new session and the lock again.
   */
  private async connectSession(): Promise<void> {
    this.session = await listenOn(this.dataSource, OUTBOX_CHANNEL, {
      onNotify: () => {
        this.notified = true;
        this.wake?.();
      },
      onLost: (client, why) => {
        if (this.session !== client) return;
        this.logger.warn(`outbox relay session lost (${why}); reconnecting`);
        this.session = undefined;
        this.holdsLock = false;
        client.release(true);
      },
    });
  }

  private endSession(): void {
    const client = this.session;
    this.session = undefined;
    this.holdsLock = false;
    // Destroyed rather than returned to the pool: a pooled connection would keep the session lock.
    client?.release(true);
  }

  /** True once this relay holds the relay lock (tried again on each drain until it does). */
  private async acquireLock(): Promise<boolean> {
    if (!this.session) await this.connectSession();
    if (!this.holdsLock) {
      const [{ locked }]: { locked: boolean }[] = (
        await this.session!.query(`SELECT pg_try_advisory_lock($1) AS locked`, [RELAY_LOCK_ID])
      ).rows;
      this.holdsLock = locked;
      this.lastFullLookAt = 0; // another relay published meanwhile: look from the start
    }
    return this.holdsLock;
  }

  /** Publishes everything pending now; returns how many rows it published. Used by the loop and by tests. */
  async drainOnce(): Promise<number> {
    if (!this.producer) await this.renewProducer();
    const producer = this.producer!;
    if (!(await this.acquireLock())) return 0;
    const fullLook = Date.now() - this.lastFullLookAt >= FULL_LOOK_EVERY_MS;
    if (fullLook) this.lastFullLookAt = Date.now();
    const rows: OutboxRow[] = await this.dataSource.query(
      `SELECT seq, topic, message_key, payload::text AS payload, traceparent FROM outbox
        WHERE published_at IS NULL AND seq > $2::bigint - ${CURSOR_SLACK} ORDER BY seq LIMIT $1`,
      [this.batchSize, fullLook ? '0' : this.cursor],
    );
    if (rows.length === 0) return 0;
    const span = tracingEnabled() ? publishSpan(rows) : undefined;
    try {
      for (const request of this.requests(rows)) {
        await producer.sendBatch({ acks: -1, compression: CompressionTypes.None, topicMessages: request });
      }
    } catch (error) {
      span?.setStatus({ code: SpanStatusCode.ERROR, message: String(error) }).end();
      throw error;
    }
    span?.end();
    await this.dataSource.query(`UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])`, [
      rows.map((r) => r.seq),
    ]);
    const last = rows[rows.length - 1].seq;
    if (BigInt(last) > BigInt(this.cursor)) this.cursor = last;
    return rows.length;
  }

  /**
   * The rows as produce requests of at most maxRequestBytes of values each, in order (a larger request would be
   * refused by the broker, and the relay would stall on it). A single row larger than that goes alone; the APIs keep
   * events far below the broker's limit.
   */
  private *requests(rows: OutboxRow[]): Generator<{ topic: string; messages: OutboxMessage[] }[]> {
    let request = new Map<string, OutboxMessage[]>();
    let bytes = 0;
    for (const row of rows) {
      const value = row.payload as string;
      const size = Buffer.byteLength(value) + Buffer.byteLength(row.message_key);
      if (bytes > 0 && bytes + size > this.maxRequestBytes) {
        yield [...request].map(([topic, messages]) => ({ topic, messages }));
        request = new Map();
        bytes = 0;
      }
      const list = request.get(row.topic) ?? [];
      // The trace the event continues goes out as its W3C header, as stored (ADR 20): no work per row.
      const traceparent = row.traceparent;
      list.push(
        traceparent ? { key: row.message_key, value, headers: { traceparent } } : { key: row.message_key, value },
      );
      request.set(row.topic, list);
      bytes += size;
    }
    if (bytes > 0) yield [...request].map(([topic, messages]) => ({ topic, messages }));
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        this.notified = false; // what was notified before this drain is in it
        const published = await this.drainOnce();
        this.failures = 0;
        if (published < this.batchSize) await this.idle(this.holdsLock ? this.idlePollMs : this.idlePollMs * 4);
      } catch (error) {
        this.failures += 1;
        const backoff = Math.min(5000, 100 * 2 ** Math.min(this.failures, 6));
        this.logger.error(
          `outbox relay failed (attempt ${this.failures}), retrying in ${backoff} ms: ${String(error)}`,
        );
        if (isProducerStateError(error)) {
          // If the new one cannot connect yet, the old one fails the next drain the same way and this runs again.
          await this.renewProducer().catch((e: unknown) =>
            this.logger.warn(`outbox relay: a new producer could not connect yet: ${String(e)}`),
          );
        }
        await this.idle(backoff);
      }
    }
  }

  /** Connects a producer, or replaces the current one (see PRODUCER_STATE_ERRORS) once the new one is connected. */
  private async renewProducer(): Promise<void> {
    const renewed = this.kafka.producer(IDEMPOTENT_PRODUCER);
    try {
      await renewed.connect();
    } catch (error) {
      await renewed.disconnect().catch(() => undefined);
      throw error;
    }
    const old = this.producer;
    this.producer = renewed;
    if (old) {
      await old.disconnect().catch(() => undefined);
      this.logger.warn('outbox relay: started a new producer, its sequence numbers no longer matched the broker');
    }
  }

  private idle(ms: number): Promise<void> {
    if (this.notified) {
      this.notified = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/**
 * One PRODUCER span per published batch whose rows carry a sampled trace (ADR 20), child of the first such row's
 * context and linked to each of them (up to OTEL_SPAN_LINK_COUNT_LIMIT): it shows how long events waited in the
 * outbox and how long the broker took. The messages' headers are the rows' own `traceparent`s, so each consumer
 * continues the span that made its event, not this one. Undefined (no span) when no row's trace is sampled.
 */
function publishSpan(rows: readonly OutboxRow[]): Span | undefined {
  const sampled = rows.filter((r) => r.traceparent !== null && isSampledTraceparent(r.traceparent));
  if (sampled.length === 0) return undefined;
  const topics = [...new Set(sampled.map((r) => r.topic))].join(',');
  const span = tracer().startSpan(
    `${topics} publish`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.destination.name': topics,
        'messaging.batch.message_count': rows.length,
      },
    },
    contextOf(sampled[0].traceparent!),
  );
  if (span.isRecording()) {
    span.addLinks(
      sampled.slice(0, spanLinkLimit()).flatMap((r) => {
        const linked = spanContextOf(r.traceparent!);
        return linked
          ? [
              {
                context: linked,
                attributes: { 'messaging.destination.name': r.topic, 'messaging.kafka.message.key': r.message_key },
              },
            ]
          : [];
      }),
    );
  }
  return span;
}
