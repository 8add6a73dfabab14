import { Logger } from '@nestjs/common';
import { Admin, Kafka } from 'kafkajs';
import { Counter, Gauge, Registry } from 'prom-client';
import { DataSource } from 'typeorm';

/**
 * What became of a consumed event: `handled` (its effects committed), `duplicate` (already in the inbox: a
 * redelivery, skipped), `ignored` (not for this service, filtered before the inbox), `retried` (an attempt failed
 * and is tried again: one per attempt, not per event), `dead_lettered` (sent to `<topic>.dlq`).
 */
export type EventOutcome = 'handled' | 'duplicate' | 'ignored' | 'retried' | 'dead_lettered';
const OUTCOMES: readonly EventOutcome[] = ['handled', 'duplicate', 'ignored', 'retried', 'dead_lettered'];
/** Why an event was dead-lettered (the transport's DeadLetterReason): bounded, a label value. */
type DeadLetterReason = 'schema' | 'signature' | 'handler';
const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = ['schema', 'signature', 'handler'];
interface TopicCounters {
  outcomes: Record<Exclude<EventOutcome, 'dead_lettered'>, Counter.Internal>;
  dead: Record<DeadLetterReason, Counter.Internal>;
}

/**
 * Consumed events by topic and outcome, counted by the transport where it decides the outcome (never in the
 * handlers). A dead-lettered event also says why (`reason`: schema, signature, handler; ADR 18): the other outcomes
 * carry no reason label. Each topic's children are made once, so counting allocates nothing.
 */
export class EventMetrics {
  private readonly consumed: Counter<'topic' | 'outcome' | 'reason'>;
  private readonly byTopic = new Map<string, TopicCounters>();

  constructor(registry: Registry) {
    this.consumed = new Counter({
      name: 'claimchain_events_consumed_total',
      help:
        'Events consumed from Kafka, by topic and outcome (handled, duplicate, ignored, retried, dead_lettered); ' +
        'dead_lettered by reason too (schema, signature, handler)',
      labelNames: ['topic', 'outcome', 'reason'],
      registers: [registry],
    });
  }

  count(topic: string, outcome: EventOutcome, n = 1, reason?: DeadLetterReason): void {
    if (n <= 0) return;
    let children = this.byTopic.get(topic);
    if (!children) {
      const labels = (o: EventOutcome, r?: DeadLetterReason) =>
        this.consumed.labels(r ? { topic, outcome: o, reason: r } : { topic, outcome: o });
      children = {
        outcomes: Object.fromEntries(OUTCOMES.filter((o) => o !== 'dead_lettered').map((o) => [o, labels(o)])),
        dead: Object.fromEntries(DEAD_LETTER_REASONS.map((r) => [r, labels('dead_lettered', r)])),
      } as TopicCounters;
      this.byTopic.set(topic, children);
    }
    if (outcome === 'dead_lettered') children.dead[reason ?? 'handler'].inc(n);
    else children.outcomes[outcome].inc(n);
  }
}

/**
 * The outbox's backlog, read when Prometheus scrapes, in one statement that walks only the partial index of unsent
 * rows: how many wait, and how long the oldest (the lowest seq) has waited. Rows that keep ageing mean the relay
 * is not publishing (the broker away, the relay stuck).
 */
export function registerOutboxMetrics(
  registry: Registry,
  dataSource: DataSource,
  /** The two gauges are collected one after the other in a scrape: they share a sample this young (default 1 s). */
  { reuseMs = 1000 }: { reuseMs?: number } = {},
): void {
  let sample: Promise<{ unsent: number; oldestSeconds: number }> | undefined;
  let sampledAt = 0;
  const read = () => {
    if (!sample || Date.now() - sampledAt >= reuseMs) {
      sampledAt = Date.now();
      sample = dataSource
        .query(
          `SELECT (SELECT count(*) FROM outbox WHERE published_at IS NULL)::int AS unsent,
                  COALESCE(EXTRACT(EPOCH FROM now() - (
                    SELECT created_at FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT 1)), 0)::float8 AS oldest`,
        )
        .then(([row]: { unsent: number; oldest: number }[]) => ({ unsent: row.unsent, oldestSeconds: row.oldest }));
    }
    return sample;
  };
  new Gauge({
    name: 'claimchain_outbox_unsent_rows',
    help: 'Outbox rows not yet published to Kafka',
    registers: [registry],
    async collect() {
      this.set((await read()).unsent);
    },
  });
  new Gauge({
    name: 'claimchain_outbox_oldest_unsent_age_seconds',
    help: 'How long the oldest outbox row not yet published has waited (0 when none waits)',
    registers: [registry],
    async collect() {
      this.set((await read()).oldestSeconds);
    },
  });
}

export interface ConsumerLagOptions {
  /** A sample younger than this is reused by the next scrape (default 5 s). */
  minIntervalMs?: number;
  /** A sample that takes longer is abandoned, the previous values stay (default 3 s). */
  timeoutMs?: number;
}

/**
 * Consumer lag per topic and partition: the high watermark minus the group's committed offset (the low watermark
 * when the group has committed nothing yet), from the Kafka admin API when Prometheus scrapes: one offsets request
 * for the group and one per topic, at most every few seconds, nothing on the consuming path. The committed offset
 * trails the processed one by the transport's commit interval (half a second), which the lag includes.
 */
export class ConsumerLagSampler {
  private readonly logger = new Logger(ConsumerLagSampler.name);
  private admin?: Admin;
  private connecting?: Promise<Admin>;
  private sampledAt = 0;
  private sampling?: Promise<void>;
  private closed = false;
  private readonly minIntervalMs: number;
  private readonly timeoutMs: number;

  constructor(
    registry: Registry,
    private readonly kafka: Kafka,
    private readonly groupId: string,
    /** The topics the consumer subscribed to (none until it starts). */
    private readonly topics: () => readonly string[],
    options: ConsumerLagOptions = {},
  ) {
    this.minIntervalMs = options.minIntervalMs ?? 5000;
    this.timeoutMs = options.timeoutMs ?? 3000;
    const sampler = this; // eslint-disable-line @typescript-eslint/no-this-alias -- collect's `this` is the gauge
    new Gauge({
      name: 'claimchain_consumer_lag_messages',
      help: "Messages in a partition not yet committed by this service's consumer group",
      labelNames: ['topic', 'partition'],
      registers: [registry],
      async collect() {
        await sampler.sample(this);
      },
    });
  }

  private async sample(gauge: Gauge<'topic' | 'partition'>): Promise<void> {
    if (this.closed || Date.now() - this.sampledAt < this.minIntervalMs) return;
    this.sampling ??= this.read(gauge).finally(() => {
      this.sampledAt = Date.now();
      this.sampling = undefined;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.timeoutMs)));
    await Promise.race([this.sampling, timeout]).finally(() => clearTimeout(timer));
  }

  private async read(gauge: Gauge<'topic' | 'partition'>): Promise<void> {
    const topics = [...this.topics()];
    if (topics.length === 0) return;
    try {
      const admin = await this.connect();
      const [committed, ends] = await Promise.all([
        admin.fetchOffsets({ groupId: this.groupId, topics }),
        Promise.all(topics.map(async (topic) => ({ topic, offsets: await admin.fetchTopicOffsets(topic) }))),
      ]);
      const committedOf = new Map(
        committed.flatMap((t) => t.partitions.map((p) => [`${t.topic}/${p.partition}`, Number(p.offset)] as const)),
      );
      for (const { topic, offsets } of ends) {
        for (const { partition, high, low } of offsets) {
          const at = committedOf.get(`${topic}/${partition}`) ?? -1;
          const lag = Number(high) - (at >= 0 ? at : Number(low));
          gauge.set({ topic, partition: String(partition) }, Math.max(0, lag));
        }
      }
    } catch (error) {
      this.logger.debug(`consumer lag not sampled: ${String(error)}`);
    }
  }

  private async connect(): Promise<Admin> {
    if (this.admin) return this.admin;
    this.connecting ??= (async () => {
      const admin = this.kafka.admin();
      try {
        await admin.connect();
      } catch (error) {
        this.connecting = undefined;
        throw error;
      }
      this.admin = admin;
      return admin;
    })();
    return this.connecting;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.sampling?.catch(() => undefined);
    const admin = this.admin ?? (await this.connecting?.catch(() => undefined));
    this.admin = undefined;
    this.connecting = undefined;
    await admin?.disconnect();
  }
}
