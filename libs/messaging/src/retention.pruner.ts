import { Logger } from '@nestjs/common';
import { DataSource, QueryRunner } from 'typeorm';

/**
 * Rows a service keeps only for a while: what may go, and after how long. `table`, `column` and `where` are SQL
 * written in code, never input. A rule's column needs an index (the pruner reads by it on every run).
 */
export interface RetentionRule {
  /** Names the rule in logs and in what pruneOnce returns. */
  name: string;
  table: string;
  /** The row's age is counted from this timestamptz column; rows older than `keepMs` go. */
  column: string;
  keepMs: number;
  /** What a row must also satisfy to go: whatever is still needed must fail it. */
  where?: string;
}

/**
 * Published outbox rows: the event is in Kafka (and, for a domain event, on the ledger) by then; the row only helps
 * an investigation. An unpublished row is never pruned, however old. `keepTopics` are kept for good (payout keeps
 * its decisions' events, which `npm run replay` reads).
 */
export function outboxRetention(keepMs: number, keepTopics: readonly string[] = []): RetentionRule {
  const kept = keepTopics.map((t) => `'${t.replace(/'/g, "''")}'`).join(', ');
  return {
    name: 'outbox',
    table: 'outbox',
    column: 'published_at',
    keepMs,
    where: kept ? `topic NOT IN (${kept})` : undefined,
  };
}

/**
 * Processed-event ids: the inbox deduplicates a redelivery, and Kafka can redeliver a record only while its topic
 * still holds it. So `keepMs` must outlast the topics' retention (and the time a dead letter may wait for its replay):
 * see the README's INBOX_RETENTION_HOURS.
 */
export function inboxRetention(keepMs: number): RetentionRule {
  return { name: 'inbox', table: 'inbox', column: 'processed_at', keepMs };
}

/** Session advisory lock: one pruner per database at a time, whatever the number of replicas. */
export const PRUNER_LOCK_ID = 0x7072756e65; // "prune"

/**
 * Rows of the previous run's age that a later run could still find: a transaction stamps now() at its start and
 * may commit a little later. Below this margin under the last cutoff, a run does not look again (so rows kept on
 * purpose, such as payout's decision events, are not read again on every run). A row missed so is pruned after
 * the next restart.
 */
const FLOOR_MARGIN_MS = 10 * 60_000;

export interface RetentionPrunerOptions {
  intervalMs: number;
  /** Rows per DELETE: each is a statement (a transaction) of its own, so no lock is held for long. */
  batchSize: number;
}

/**
 * Deletes what each rule lets go, every `intervalMs`, in small batches: `DELETE … WHERE ctid = ANY(ARRAY(SELECT
 * ctid … LIMIT n))`, each its own short transaction, until a batch comes back short. Only one replica prunes a
 * database at a time (a session advisory lock on the pruner's connection; the others skip that run). A failed run
 * is logged and the next one tries again.
 */
export class RetentionPruner {
  private readonly logger = new Logger(RetentionPruner.name);
  /** Per rule: the oldest age the next run still looks at (see FLOOR_MARGIN_MS). */
  private readonly floors = new Map<string, Date>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopping = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly rules: readonly RetentionRule[],
    private readonly options: RetentionPrunerOptions,
  ) {}

  start(): void {
    this.stopping = false;
    this.schedule();
  }

  /** Stops the timer and waits for a run in progress (it stops after its current batch). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /**
   * One run over every rule: how many rows each deleted, or undefined when another replica holds the pruner's lock.
   */
  async pruneOnce(): Promise<Record<string, number> | undefined> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = await runner.query(`SELECT pg_try_advisory_lock($1) AS locked`, [PRUNER_LOCK_ID]);
      if (!locked) return undefined;
      try {
        const [{ now }]: { now: Date }[] = await runner.query(`SELECT now() AS now`);
        const deleted: Record<string, number> = {};
        for (const rule of this.rules) deleted[rule.name] = await this.prune(runner, rule, now);
        return deleted;
      } finally {
        await runner.query(`SELECT pg_advisory_unlock($1)`, [PRUNER_LOCK_ID]);
      }
    } finally {
      await runner.release();
    }
  }

  private async prune(runner: QueryRunner, rule: RetentionRule, now: Date): Promise<number> {
    const cutoff = new Date(now.getTime() - rule.keepMs);
    const floor = this.floors.get(rule.name);
    const conditions = [`${rule.column} < $1`, ...(floor ? [`${rule.column} >= $3`] : []), rule.where ?? 'true'];
    const sql = `WITH gone AS (
        DELETE FROM ${rule.table} WHERE ctid = ANY(ARRAY(
          SELECT ctid FROM ${rule.table} WHERE ${conditions.map((c) => `(${c})`).join(' AND ')} LIMIT $2))
        RETURNING 1)
      SELECT count(*)::int AS n FROM gone`;
    const params = floor ? [cutoff, this.options.batchSize, floor] : [cutoff, this.options.batchSize];
    let total = 0;
    for (;;) {
      const [{ n }]: { n: number }[] = await runner.query(sql, params);
      total += n;
      if (n < this.options.batchSize) break;
      if (this.stopping) return total;
    }
    this.floors.set(rule.name, new Date(cutoff.getTime() - FLOOR_MARGIN_MS));
    if (total > 0) this.logger.log(`pruned ${total} ${rule.name} row(s) older than ${cutoff.toISOString()}`);
    return total;
  }

  private schedule(): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.running = this.pruneOnce()
        .catch((error: unknown) => this.logger.warn(`pruning failed, trying again later: ${String(error)}`))
        .finally(() => this.schedule());
    }, this.options.intervalMs);
    this.timer.unref();
  }
}
