import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { databaseUrlFor } from '@claimchain/config';
import { Topics } from '@claimchain/wire';
import { idempotencyKeysRetention } from '@claimchain/http';
import { inboxRetention, outboxRetention, PRUNER_LOCK_ID, RetentionPruner } from '@claimchain/messaging';
import { migratedDataSource, waitFor } from '@claimchain/testing';
import { dataSourceOptions } from '../../apps/claim-intake/src/persistence/data-source.options';
import { RunningSystem, startSystem } from '../e2e/system';

const HOUR_MS = 3_600_000;

/** Outbox, inbox and Idempotency-Key rows on the real Postgres: what goes, what stays, and who prunes. */
describe(RetentionPruner.name, () => {
  let ds: DataSource;

  /** `age` is a Postgres interval: how long ago the row was published, processed or first used. */
  const outboxRow = async (topic: string, age: string | null, created = age ?? '3 days') => {
    const id = uuidv4();
    await ds.query(
      `INSERT INTO outbox (event_id, topic, message_key, payload, created_at, published_at)
       VALUES ($1, $2, 'k', '{}', now() - $3::interval, now() - $4::interval)`,
      [id, topic, created, age],
    );
    return id;
  };
  const inboxRow = async (age: string) => {
    const id = uuidv4();
    await ds.query(`INSERT INTO inbox (event_id, topic, processed_at) VALUES ($1, 't', now() - $2::interval)`, [
      id,
      age,
    ]);
    return id;
  };
  const keyRow = async (age: string) => {
    const key = uuidv4();
    await ds.query(
      `INSERT INTO idempotency_keys (scope, key, request_hash, status, body, created_at)
       VALUES ('tenant:op', $1, repeat('0', 64), 202, '{}', now() - $2::interval)`,
      [key, age],
    );
    return key;
  };
  const remaining = async (table: string, column: string, ids: string[]) =>
    (await ds.query(`SELECT ${column}::text AS id FROM ${table} WHERE ${column}::text = ANY($1)`, [ids]))
      .map((r: { id: string }) => r.id)
      .sort();
  const pruner = (batchSize = 2) =>
    new RetentionPruner(
      ds,
      [outboxRetention(HOUR_MS, ['kept.topic.v1']), inboxRetention(HOUR_MS), idempotencyKeysRetention(HOUR_MS)],
      { intervalMs: 60_000, batchSize },
    );

  beforeAll(async () => {
    ds = await migratedDataSource(`${process.env.DATABASE_PREFIX}_retention_pruner`, dataSourceOptions(''));
  });

  afterEach(async () => {
    await ds.query(`TRUNCATE outbox, inbox, idempotency_keys`);
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  it('deletes published outbox rows past retention, in batches, and keeps unpublished, recent and kept-topic ones', async () => {
    const old = await Promise.all([1, 2, 3, 4, 5].map(() => outboxRow('claims.submitted.v1', '2 hours')));
    const unpublished = await outboxRow('claims.submitted.v1', null, '30 days');
    const recent = await outboxRow('claims.submitted.v1', '10 minutes', '30 days');
    const kept = await outboxRow('kept.topic.v1', '30 days');

    expect(await pruner().pruneOnce()).toEqual({ outbox: 5, inbox: 0, 'idempotency-keys': 0 });
    expect(await remaining('outbox', 'event_id', [...old, unpublished, recent, kept])).toEqual(
      [unpublished, recent, kept].sort(),
    );
  });

  it('deletes inbox rows and Idempotency-Keys past retention and keeps recent ones', async () => {
    const oldEvents = await Promise.all([1, 2, 3].map(() => inboxRow('2 hours')));
    const recentEvent = await inboxRow('59 minutes');
    const oldKeys = await Promise.all([1, 2, 3, 4].map(() => keyRow('2 hours')));
    const recentKey = await keyRow('59 minutes');

    expect(await pruner(3).pruneOnce()).toEqual({ outbox: 0, inbox: 3, 'idempotency-keys': 4 });
    expect(await remaining('inbox', 'event_id', [...oldEvents, recentEvent])).toEqual([recentEvent]);
    expect(await remaining('idempotency_keys', 'key', [...oldKeys, recentKey])).toEqual([recentKey]);
  });

  it('leaves the run to the replica that holds the pruner lock', async () => {
    const old = await inboxRow('2 hours');
    const other = new Client({ connectionString: (ds.options as { url: string }).url });
    await other.connect();
    try {
      await other.query(`SELECT pg_advisory_lock($1)`, [PRUNER_LOCK_ID]);
      expect(await pruner().pruneOnce()).toBeUndefined();
      expect(await remaining('inbox', 'event_id', [old])).toEqual([old]);
      await other.query(`SELECT pg_advisory_unlock($1)`, [PRUNER_LOCK_ID]);
      expect(await pruner().pruneOnce()).toMatchObject({ inbox: 1 });
    } finally {
      await other.end();
    }
  });

  describe('in a running service', () => {
    let system: RunningSystem;
    let payout: Client;
    let decision: string;
    let released: string;

    beforeAll(async () => {
      // Rows this old appear only before a service's first run (a run does not look below its last cutoff again).
      payout = new Client({
        connectionString: databaseUrlFor('payout', process.env.DATABASE_URL!, process.env.DATABASE_PREFIX!),
      });
      await payout.connect();
      const insert = async (topic: string) => {
        const id = uuidv4();
        await payout.query(
          `INSERT INTO outbox (event_id, topic, message_key, payload, created_at, published_at)
           VALUES ($1, $2, 'k', '{}', now() - interval '2 days', now() - interval '2 days')`,
          [id, topic],
        );
        return id;
      };
      decision = await insert(Topics.ClaimsAdjudicated);
      released = await insert(Topics.PayoutsReleased);
      system = await startSystem({
        services: ['payout'],
        env: { PRUNE_INTERVAL_MS: '50', OUTBOX_RETENTION_HOURS: '1' },
      });
    });

    afterAll(async () => {
      await system?.stop();
      await payout?.end();
    });

    it('prunes on its interval, and payout keeps the events of its decisions, which replay reads', async () => {
      const left = async (id: string) =>
        (await payout.query(`SELECT 1 FROM outbox WHERE event_id = $1`, [id])).rowCount;
      await waitFor('the released event to be pruned', async () => (await left(released)) === 0);
      expect(await left(decision)).toBe(1);
    });
  });
});
