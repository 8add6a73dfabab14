import { Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { LATENCY_BUCKETS_SECONDS } from '@claimchain/observability';

interface LedgerState {
  leaves: number;
  checkpointed: number;
  checkpointAge: number;
  waiting: number;
}

/**
 * The ledger's health: its size, how far its signed checkpoints trail it, and what appends and checkpoints cost.
 * The gauges are read from the database when Prometheus scrapes (one statement on indexed columns), so every
 * replica reports the one log's state, leader or not. `checkpoint_age_seconds` grows while the log is idle (no new
 * leaves, no new checkpoint); `uncheckpointed_age_seconds` is the one to alert on: how long the oldest leaf no
 * checkpoint covers has waited, i.e. how late `ledger.anchored.v2` (and so every payment) is running.
 */
export class LedgerMetrics {
  readonly appendSeconds: Histogram;
  readonly checkpointSeconds: Histogram;

  constructor(registry: Registry, dataSource?: DataSource) {
    this.appendSeconds = new Histogram({
      name: 'claimchain_ledger_append_duration_seconds',
      help: 'Time to append a batch of events to the log (sequencer lock, frontier read, leaves and nodes written)',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [registry],
    });
    this.checkpointSeconds = new Histogram({
      name: 'claimchain_ledger_checkpoint_duration_seconds',
      help: 'Time to sign and commit a checkpoint with its anchored events',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [registry],
    });
    let sample: Promise<LedgerState | undefined> | undefined;
    let sampledAt = 0;
    const read = () => {
      if (!sample || Date.now() - sampledAt > 1000) {
        sampledAt = Date.now();
        sample = dataSource ? readLedgerState(dataSource) : Promise.resolve(undefined);
      }
      return sample;
    };
    const gauge = (name: string, help: string, pick: (s: LedgerState) => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        async collect() {
          const state = await read();
          if (state) this.set(pick(state));
        },
      });
    gauge('claimchain_ledger_leaves', 'Entries in the log (its tree size)', (s) => s.leaves);
    gauge('claimchain_ledger_checkpoint_leaves', 'Tree size of the latest signed checkpoint', (s) => s.checkpointed);
    gauge(
      'claimchain_ledger_checkpoint_age_seconds',
      'Seconds since the latest checkpoint was signed',
      (s) => s.checkpointAge,
    );
    gauge(
      'claimchain_ledger_uncheckpointed_age_seconds',
      'How long the oldest entry no signed checkpoint covers has waited (0 when all are covered)',
      (s) => s.waiting,
    );
  }
}

async function readLedgerState(dataSource: DataSource): Promise<LedgerState> {
  const [row]: { leaves: string; checkpointed: string; checkpoint_age: number; waiting: number }[] =
    await dataSource.query(
      `WITH c AS (SELECT tree_size, created_at FROM ledger_checkpoints ORDER BY tree_size DESC LIMIT 1),
            s AS (SELECT COALESCE(MAX(leaf_index), -1) + 1 AS leaves FROM ledger_leaves)
       SELECT s.leaves::text AS leaves,
              COALESCE((SELECT tree_size FROM c), 0)::text AS checkpointed,
              COALESCE((SELECT EXTRACT(EPOCH FROM now() - created_at) FROM c), 0)::float8 AS checkpoint_age,
              COALESCE((SELECT EXTRACT(EPOCH FROM now() - l.appended_at) FROM ledger_leaves l
                         WHERE l.leaf_index = COALESCE((SELECT tree_size FROM c), 0)), 0)::float8 AS waiting
         FROM s`,
    );
  return {
    leaves: Number(row.leaves),
    checkpointed: Number(row.checkpointed),
    checkpointAge: row.checkpoint_age,
    waiting: row.waiting,
  };
}
