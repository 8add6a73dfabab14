import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CompressionTypes, Kafka, Producer, ProducerConfig } from 'kafkajs';
import { Pool, PoolClient } from 'pg';

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

/** The channel outbox writes NOTIFY on commit. */
export const OUTBOX_CHANNEL = 'claimchain_outbox';

interface OutboxRow {
  seq: string;
  topic: string;
  message_key: string;
  payload: unknown;
}

export interface OutboxRelayOptions {
  batchSize?: number;
  idlePollMs?: number;
}

/** Advisory lock id (held per transaction): one relay per database publishes at a time, so per-key order holds. */
export const RELAY_LOCK_ID = 0x6f7574626f78; // "outbox"

/**
 * Publishes outbox rows to Kafka in order, with an idempotent producer and acks=all; the transaction that marks them
 * published commits only once Kafka has them. A crash between send and commit re-sends the batch on restart:
 * consumers deduplicate by event id (the inbox), so delivery is at least once and effects are exactly once.
 */
export class OutboxRelay {
  private readonly logger = new Logger(OutboxRelay.name);
  private producer?: Producer;
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  /** Set by a NOTIFY from a committed outbox write; an idle relay drains at once instead of waiting to poll. */
  private notified = false;
  private listener?: PoolClient;
  private readonly batchSize: number;
  private readonly idlePollMs: number;
  /** Consecutive failed drains. */
  private failures = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly kafka: Kafka,
    options: OutboxRelayOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.idlePollMs = options.idlePollMs ?? 250;
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
    this.producer = this.kafka.producer(IDEMPOTENT_PRODUCER);
    await this.producer.connect();
    await this.listen();
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.producer?.disconnect();
    this.producer = undefined;
    const listener = this.listener;
    this.listener = undefined;
    listener?.release();
  }

  /**
   * Outbox writes NOTIFY on commit (OutboxWriter); listening on a connection of our own turns the relay's latency
   * from a polling interval into about one round trip. Polling stays as the fallback for a lost connection.
   */
  private async listen(): Promise<void> {
    const pool = (this.dataSource.driver as unknown as { master: Pool }).master;
    const client = await pool.connect();
    client.on('notification', () => {
      this.notified = true;
      this.wake?.();
    });
    client.on('error', (error) => this.logger.warn(`outbox listener lost (${String(error)}); polling only`));
    await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    this.listener = client;
  }

  /** Publishes everything pending now; returns how many rows it published. Used by the loop and by tests. */
  async drainOnce(): Promise<number> {
    const producer = this.producer;
    if (!producer) throw new Error('relay not started');
    return this.dataSource.transaction(async (em) => {
      // One statement takes the relay lock, picks the next rows and marks them; the mark commits only after the send
      // below. Its snapshot predates the lock, so it may list rows that the relay which held the lock has published
      // since: the UPDATE re-reads each row's latest version (READ COMMITTED) and skips those, so none is re-sent.
      const rows: OutboxRow[] = await em.query(
        `WITH next AS (
           SELECT seq FROM outbox
            WHERE published_at IS NULL AND (SELECT pg_try_advisory_xact_lock($2))
            ORDER BY seq LIMIT $1
         ), marked AS (
           UPDATE outbox SET published_at = now()
            WHERE seq = ANY (ARRAY(SELECT seq FROM next)) AND published_at IS NULL
           RETURNING seq, topic, message_key, payload
         )
         SELECT seq, topic, message_key, payload FROM marked ORDER BY seq`,
        [this.batchSize, RELAY_LOCK_ID],
      );
      if (rows.length === 0) return 0;
      const byTopic = new Map<string, { key: string; value: string }[]>();
      for (const row of rows) {
        const list = byTopic.get(row.topic) ?? [];
        list.push({ key: row.message_key, value: JSON.stringify(row.payload) });
        byTopic.set(row.topic, list);
      }
      await producer.sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
      return rows.length;
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        this.notified = false; // what was notified before this drain is in it
        const published = await this.drainOnce();
        this.failures = 0;
        if (published < this.batchSize) await this.idle(this.idlePollMs);
      } catch (error) {
        this.failures += 1;
        const backoff = Math.min(5000, 100 * 2 ** Math.min(this.failures, 6));
        this.logger.error(
          `outbox relay failed (attempt ${this.failures}), retrying in ${backoff} ms: ${String(error)}`,
        );
        await this.idle(backoff);
      }
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
