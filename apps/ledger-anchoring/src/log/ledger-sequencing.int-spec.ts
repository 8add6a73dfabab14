import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { LedgerAnchoringConfig, loadLedgerAnchoringConfig } from '../ledger-anchoring.config';
import { CloudEvent, Topics } from '@claimchain/wire';
import {
  appendLeaves,
  generateNoteKey,
  leafCommitment,
  leafHashOfEvent,
  parseSignerKey,
  rootHash,
} from '@claimchain/ledger';
import { buildEvent } from '@claimchain/messaging';
import { claimSubmittedDraft, migratedDataSource, testOutboxWriter, waitFor } from '@claimchain/testing';
import { dataSourceOptions } from '../persistence/data-source.options';
import { LedgerRepository, PostgresSubtreeReader } from '../persistence/ledger.repository';
import { LeafSalter } from './append/leaf-salt.key';
import { LedgerAppenderService } from './append/ledger-appender.service';
import { CheckpointService, LEADER_LOCK_ID } from './checkpoint/checkpoint.service';
import { LatestCheckpointCache } from './checkpoint/latest-checkpoint.cache';
import { AnchorPublisher } from './anchor/anchor-publisher.service';
import { AnchorSink, SignedCheckpoint } from './anchor/anchor-sink';

const ORIGIN = 'claimchain.int/ledger-sequencing';

function claimEvent(): CloudEvent {
  return buildEvent(Topics.ClaimsSubmitted, claimSubmittedDraft(uuidv4(), { source: 'test/ledger-sequencing' }));
}

const events = (n: number) => Array.from({ length: n }, claimEvent);

describe('ledger sequencing on the real Postgres', () => {
  let ds: DataSource;
  const repo = new LedgerRepository();
  const appender = new LedgerAppenderService(repo);
  const appendBatch = (batch: CloudEvent[]) => ds.transaction((em) => appender.appendBatch(em, batch));
  const count = async (sql: string): Promise<number> => Number((await ds.query(sql))[0].n);

  beforeAll(async () => {
    ds = await migratedDataSource(`${process.env.DATABASE_PREFIX}_ledger_sequencing`, dataSourceOptions(''));
  });

  afterAll(async () => {
    await ds.destroy();
  });

  describe(LedgerAppenderService.name, () => {
    it('appends a batch with one frontier read and stores the same tree as appending one by one', async () => {
      const before = await repo.size(ds.manager);
      const batch = events(37);
      const result = await appendBatch(batch);
      expect(result).toEqual({ appended: 37, size: before + 37 });

      const rows: { leaf_index: string; event_id: string }[] = await ds.query(
        `SELECT l.leaf_index::text AS leaf_index, l.event_id FROM ledger_leaves l ORDER BY l.leaf_index`,
      );
      expect(rows.slice(before).map((r) => r.event_id)).toEqual(batch.map((e) => e.id));
      expect(rows.map((r) => Number(r.leaf_index))).toEqual(rows.map((_, i) => i));
      // Every perfect subtree once: 2n - popcount(n) nodes for n leaves.
      const n = result.size;
      const popcount = n.toString(2).replace(/0/g, '').length;
      expect(await count(`SELECT count(*) AS n FROM ledger_nodes`)).toBe(2 * n - popcount);
    });

    it('salts leaves from LEDGER_SALTED_FROM_INDEX on and keeps the salt beside them; earlier ones stay v1 (ADR 16)', async () => {
      const size = await repo.size(ds.manager);
      const salter = new LeafSalter(Buffer.from('a test leaf salt key of enough characters'), size + 2);
      const salting = new LedgerAppenderService(repo, undefined, salter);
      const batch = events(4);
      await ds.transaction((em) => salting.appendBatch(em, batch));
      const rows: { leaf: Buffer; leaf_hash: Buffer; data_salt: Buffer | null }[] = await ds.query(
        `SELECT leaf, leaf_hash, data_salt FROM ledger_leaves WHERE leaf_index >= $1 ORDER BY leaf_index`,
        [size],
      );
      expect(rows.map((r) => (JSON.parse(r.leaf.toString('utf8')) as { v?: number }).v)).toEqual([
        undefined,
        undefined,
        2,
        2,
      ]);
      expect(rows.map((r) => r.data_salt)).toEqual([
        null,
        null,
        salter.saltOf(batch[2].id),
        salter.saltOf(batch[3].id),
      ]);
      rows.forEach((r, i) => {
        expect(r.leaf).toEqual(leafCommitment(batch[i], r.data_salt));
        expect(r.leaf_hash).toEqual(leafHashOfEvent(batch[i], r.data_salt));
      });
    });

    it('skips events already in the log and repeats within the batch, keeping indices gapless', async () => {
      const first = events(5);
      await appendBatch(first);
      const fresh = events(3);
      const before = await repo.size(ds.manager);
      const result = await appendBatch([first[1], fresh[0], fresh[0], first[4], fresh[1], fresh[2]]);
      expect(result).toEqual({ appended: 3, size: before + 3 });
      expect(await appendBatch(first)).toEqual({ appended: 0, size: before + 3 });
      expect(await appender.append(ds.manager, first[0])).toBeUndefined();
    });

    it('keeps one gapless sequence when batches from several transactions race', async () => {
      const before = await repo.size(ds.manager);
      const batches = Array.from({ length: 8 }, () => events(25));
      await Promise.all(batches.map((b) => appendBatch(b)));
      expect(await repo.size(ds.manager)).toBe(before + 200);
      const leafHashes: { leaf_hash: Buffer }[] = await ds.query(
        `SELECT l.leaf_hash FROM ledger_leaves l ORDER BY l.leaf_index`,
      );
      // The stored tree is exactly the tree of the stored leaves, in their order.
      const { root } = appendLeaves(
        [],
        0,
        leafHashes.map((r) => r.leaf_hash),
      );
      expect(await rootHash(new PostgresSubtreeReader(ds.manager), leafHashes.length)).toEqual(root);
      const ids = new Set(batches.flat().map((e) => e.id));
      const hashes = await ds.query(`SELECT event_id FROM ledger_leaves WHERE event_id = ANY($1::uuid[])`, [[...ids]]);
      expect(hashes).toHaveLength(200);
      expect(leafHashes.slice(before).map((r) => r.leaf_hash)).toEqual(
        expect.arrayContaining(batches.flat().map((e) => leafHashOfEvent(e))),
      );
    });
  });

  describe(CheckpointService.name, () => {
    const services: CheckpointService[] = [];
    let config: LedgerAnchoringConfig;

    beforeAll(() => {
      const dir = mkdtempSync(join(tmpdir(), 'claimchain-ledger-sequencing-'));
      writeFileSync(join(dir, 'signing.key'), generateNoteKey(ORIGIN).signerKey);
      config = {
        ...loadLedgerAnchoringConfig({
          LEDGER_ORIGIN: ORIGIN,
          LEDGER_CHECKPOINT_INTERVAL_MS: '40',
          LEDGER_CHECKPOINT_MAX_ENTRIES: '1000',
        }),
        databaseUrl: (ds.options as { url: string }).url,
      };
      config.ledger.signingKeyFile = join(dir, 'signing.key');
    });

    /** One replica's checkpointer: its own pool and its own leader connection. */
    async function replica(overrides: Partial<LedgerAnchoringConfig['ledger']> = {}): Promise<CheckpointService> {
      const own = new DataSource({ ...dataSourceOptions(config.databaseUrl), extra: { max: 4 } });
      await own.initialize();
      const signer = parseSignerKey(readFileSync(config.ledger.signingKeyFile!, 'utf8').trim());
      const service = new CheckpointService(
        own,
        repo,
        testOutboxWriter('ledger-anchoring'),
        new AnchorPublisher(own, repo, []),
        new LatestCheckpointCache(own, repo),
        signer,
        { ...config, ledger: { ...config.ledger, ...overrides } },
      );
      const shutdown = service.beforeApplicationShutdown.bind(service);
      service.beforeApplicationShutdown = async () => {
        await shutdown();
        await own.destroy();
      };
      service.onApplicationBootstrap();
      services.push(service);
      return service;
    }

    afterEach(async () => {
      for (const s of services.splice(0)) await s.beforeApplicationShutdown();
    });

    /**
     * Backends holding the leader's session lock (a bigint key shows as classid = high, objid = low 32 bits) in this
     * test's database: a ledger of another database on the server (a bench, another test run) holds the same key.
     */
    async function lockHolders(): Promise<number[]> {
      const rows: { pid: number }[] = await ds.query(
        `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND ((classid::bigint << 32) | objid::bigint) = $1`,
        [LEADER_LOCK_ID],
      );
      return rows.map((r) => r.pid);
    }

    const checkpointedSize = async () => Number((await repo.latestCheckpoint(ds.manager))?.tree_size ?? 0);

    /** The safety property leadership must never break: each leaf is announced once. */
    async function expectEachLeafAnchoredOnce(): Promise<void> {
      const size = await checkpointedSize();
      const rows: { n: string; d: string }[] = await ds.query(
        `SELECT count(*)::text AS n, count(DISTINCT e->>'eventId')::text AS d
           FROM outbox, jsonb_array_elements(payload->'data'->'entries') AS e WHERE topic = $1`,
        [Topics.LedgerAnchored],
      );
      expect(rows[0]).toEqual({ n: String(size), d: String(size) });
      // Each with the root and the inclusion proof payout requires (ledger.anchored.v2 refuses an entry without them).
      const proven: { n: string }[] = await ds.query(
        `SELECT count(*)::text AS n FROM outbox, jsonb_array_elements(payload->'data'->'entries') AS e
          WHERE topic = $1 AND jsonb_typeof(e->'inclusionProof') = 'array'
            AND payload->'data'->>'rootHash' IS NOT NULL`,
        [Topics.LedgerAnchored],
      );
      expect(proven[0].n).toBe(String(size));
    }

    it('elects one leader among replicas, which checkpoints while the other stands by', async () => {
      const [a, b] = [await replica(), await replica()];
      const [leader, standby] = await waitFor('a leader', () =>
        a.isLeader ? [a, b] : b.isLeader ? [b, a] : undefined,
      );
      await appendBatch(events(10));
      const size = await repo.size(ds.manager);
      await waitFor('a checkpoint of the new size', async () => (await checkpointedSize()) === size);
      expect(leader.isLeader).toBe(true);
      expect(standby.isLeader).toBe(false);
      expect(await lockHolders()).toEqual([await leader.leaderLease.backendPid()]);
      await expectEachLeafAnchoredOnce();
    });

    it('lets a standby take over when the leader shuts down', async () => {
      const [a, b] = [await replica(), await replica()];
      const [leader, standby] = await waitFor('a leader', () =>
        a.isLeader ? [a, b] : b.isLeader ? [b, a] : undefined,
      );
      await leader.beforeApplicationShutdown();
      services.splice(services.indexOf(leader), 1);
      await waitFor('the standby to lead', () => standby.isLeader);
      await appendBatch(events(10));
      const size = await repo.size(ds.manager);
      await waitFor('the new leader to checkpoint', async () => (await checkpointedSize()) === size);
      await expectEachLeafAnchoredOnce();
    });

    it("hands leadership on when the leader's database session dies, and keeps checkpointing", async () => {
      const [a, b] = [await replica(), await replica()];
      const leader = await waitFor('a leader', () => (a.isLeader ? a : b.isLeader ? b : undefined));
      const pid = (await leader.leaderLease.backendPid())!;
      expect(await lockHolders()).toEqual([pid]);
      await ds.query(`SELECT pg_terminate_backend($1)`, [pid]);
      // Either replica may win the free lock (the old one reconnects too); what matters is that a live session
      // holds it and the replica owning that session knows it leads.
      await waitFor('a leader on a live session', async () => {
        const holders = await lockHolders();
        if (holders.length !== 1 || holders[0] === pid) return undefined;
        for (const s of [a, b]) {
          if (s.isLeader && (await s.leaderLease.backendPid().catch(() => undefined)) === holders[0]) return true;
        }
        return undefined;
      });
      await appendBatch(events(10));
      const size = await repo.size(ds.manager);
      await waitFor('a checkpoint after the failover', async () => (await checkpointedSize()) === size);
      await expectEachLeafAnchoredOnce();
    });

    it('checkpoints as soon as N entries are pending, when another replica appended them', async () => {
      const leader = await replica({ checkpointIntervalMs: 60_000, checkpointMaxEntries: 20 });
      await waitFor('leadership', () => leader.isLeader);
      // The first round ran on election; now only the N-entries rule can wake it within the test.
      const before = await checkpointedSize();
      await appendBatch(events(19));
      await appendBatch(events(1));
      const size = await repo.size(ds.manager);
      await waitFor('a checkpoint woken by NOTIFY', async () => (await checkpointedSize()) === size, {
        timeoutMs: 5000,
      });
      expect(size - before).toBeGreaterThanOrEqual(20);
    });

    it('never announces a leaf twice when checkpoints race', async () => {
      const [a, b] = [await replica({ checkpointIntervalMs: 60_000 }), await replica({ checkpointIntervalMs: 60_000 })];
      for (let round = 0; round < 5; round++) {
        await appendBatch(events(7));
        await Promise.all([a.checkpointNow(), b.checkpointNow(), a.checkpointNow()]);
      }
      expect(await checkpointedSize()).toBe(await repo.size(ds.manager));
      await expectEachLeafAnchoredOnce();
    });
  });

  describe(AnchorPublisher.name, () => {
    /** A sink that is down for its first `failures` calls, like a witness that is unreachable for a while. */
    class FlakySink implements AnchorSink {
      readonly name = `flaky-${uuidv4()}`;
      readonly published: SignedCheckpoint[] = [];
      calls = 0;
      constructor(private failures: number) {}
      async publish(checkpoint: SignedCheckpoint): Promise<void> {
        this.calls++;
        if (this.failures-- > 0) throw new Error('witness unreachable');
        this.published.push(checkpoint);
      }
    }

    it('retries a failing sink with backoff and delivers every checkpoint in order, without holding up the log', async () => {
      const flaky = new FlakySink(2);
      const healthy = new FlakySink(0);
      const publisher = new AnchorPublisher(ds, repo, [flaky, healthy]);
      try {
        publisher.kick();
        await publisher.idle();
        expect(flaky.calls).toBe(1); // failed once; the retry waits for its backoff
        const stored: { tree_size: string; note: string }[] = await ds.query(
          `SELECT c.tree_size::text AS tree_size, c.note FROM ledger_checkpoints c ORDER BY c.tree_size`,
        );
        // The healthy sink was not held up by the failing one.
        expect(healthy.published.map((c) => String(c.treeSize))).toEqual(stored.map((c) => c.tree_size));
        await waitFor('the flaky sink to catch up', () => flaky.published.length === stored.length, {
          timeoutMs: 10_000,
        });
        expect(flaky.calls).toBe(stored.length + 2);
        expect(flaky.published.map((c) => c.note)).toEqual(stored.map((c) => c.note));
        expect(flaky.published[0]).toMatchObject({ origin: ORIGIN });
        expect(await repo.anchoredSize(ds.manager, flaky.name)).toBe(Number(stored.at(-1)!.tree_size));
      } finally {
        await publisher.stop();
      }
    });
  });
});
