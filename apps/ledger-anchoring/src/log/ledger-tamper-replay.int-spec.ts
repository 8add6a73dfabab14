import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Admin, Kafka, Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { LedgerAnchoringConfig, loadLedgerAnchoringConfig } from '../ledger-anchoring.config';
import { CloudEvent, LEDGER_RECORDED_TOPICS, Topics } from '@claimchain/wire';
import { generateNoteKey, LedgerError, NoteSigner, parseSignerKey } from '@claimchain/ledger';
import { buildEvent, createKafka } from '@claimchain/messaging';
import { startHybridApp } from '@claimchain/runtime';
import { claimSubmittedDraft, freshDatabase, ownerSigned, waitFor } from '@claimchain/testing';
import { LedgerAnchoringModule } from '../app.module';
import { LedgerAuditService } from './audit/ledger-audit.service';
import { NOTE_SIGNER } from './checkpoint/note-signer.provider';
import { LedgerRepository } from '../persistence/ledger.repository';
import { migrateService } from '../../../../scripts/migrate';

const ORIGIN = 'claimchain.int/ledger-tamper';

function claimEvent(): CloudEvent {
  return buildEvent(Topics.ClaimsSubmitted, claimSubmittedDraft(uuidv4(), { source: 'test/ledger-tamper' }));
}

interface LogSnapshot {
  leaves: { leaf_index: string; event_id: string; leaf: Buffer; leaf_hash: Buffer }[];
  nodes: number;
  checkpoints: { tree_size: string; note: string }[];
}

/**
 * The ledger service on the real broker and Postgres, fed through Kafka: a full audit names the index of any row
 * changed behind its back, and replaying every topic from offset 0 (with the inbox wiped, so only the log's own
 * event-id dedupe stands in the way) leaves the log exactly as it was.
 */
describe('ledger tamper evidence and replay', () => {
  let kafka: Kafka;
  let producer: Producer;
  let admin: Admin;
  let config: LedgerAnchoringConfig;
  let app: NestFastifyApplication | undefined;
  let ds: DataSource;
  const published: CloudEvent[] = [];

  async function start(groupPrefix: string): Promise<NestFastifyApplication> {
    const env = { ...config, kafkaGroupId: `${groupPrefix}.ledger-anchoring` };
    app = await startHybridApp(LedgerAnchoringModule.forRoot(env), env);
    ds = app.get(DataSource);
    return app;
  }

  async function stop(): Promise<void> {
    await app?.close();
    app = undefined;
  }

  /** Caught up: the group's committed offset is the end of every partition of every recorded topic. */
  async function caughtUp(groupId: string): Promise<boolean> {
    const committed = await admin.fetchOffsets({ groupId, topics: [...LEDGER_RECORDED_TOPICS] });
    for (const { topic, partitions } of committed) {
      const ends = await admin.fetchTopicOffsets(topic);
      for (const end of ends) {
        const at = partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
        if (end.high !== '0' && at !== end.high) return false;
      }
    }
    return true;
  }

  async function snapshot(): Promise<LogSnapshot> {
    return {
      leaves: await ds.query(
        `SELECT l.leaf_index::text AS leaf_index, l.event_id, l.leaf, l.leaf_hash FROM ledger_leaves l ORDER BY l.leaf_index`,
      ),
      nodes: Number((await ds.query(`SELECT count(*) AS n FROM ledger_nodes`))[0].n),
      checkpoints: await ds.query(
        `SELECT c.tree_size::text AS tree_size, c.note FROM ledger_checkpoints c ORDER BY c.tree_size`,
      ),
    };
  }

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'claimchain-ledger-tamper-'));
    writeFileSync(join(dir, 'signing.key'), generateNoteKey(ORIGIN).signerKey, { mode: 0o600 });
    const url = await freshDatabase(`${process.env.DATABASE_PREFIX}_ledger_tamper`);
    await migrateService('ledger-anchoring', url);
    config = {
      ...loadLedgerAnchoringConfig({
        ...process.env,
        PORT: '0',
        METRICS_PORT: '0',
        LEDGER_ORIGIN: ORIGIN,
        LEDGER_SIGNING_KEY_FILE: join(dir, 'signing.key'),
        LEDGER_CHECKPOINT_INTERVAL_MS: '50',
        LOG_LEVEL: 'error',
      }),
      databaseUrl: url,
    };
    kafka = createKafka('ledger-tamper-int-spec', process.env.KAFKA_BROKERS!.split(','));
    producer = kafka.producer();
    admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect()]);

    // Everything already on the topics (other specs' events included) plus ours, recorded and checkpointed.
    const group = `ledger-tamper-${uuidv4()}`;
    await start(group);
    for (let i = 0; i < 3; i++) {
      const batch = Array.from({ length: 40 }, claimEvent);
      await producer.send({
        topic: Topics.ClaimsSubmitted,
        messages: batch.map((e) => ({ key: e.subject, value: ownerSigned(Topics.ClaimsSubmitted, e) })),
      });
      published.push(...batch);
    }
    await waitFor('every topic consumed', () => caughtUp(`${group}.ledger-anchoring`), { timeoutMs: 60_000 });
    await waitFor('a checkpoint covering the whole log', async () => {
      const { leaves, checkpoints } = await snapshot();
      return checkpoints.at(-1)?.tree_size === String(leaves.length);
    });
  }, 120_000);

  afterAll(async () => {
    await stop();
    await Promise.all([producer?.disconnect(), admin?.disconnect()]);
  });

  describe(LedgerAuditService.name, () => {
    const audit = (options?: { checkNodes?: boolean }) => app!.get(LedgerAuditService).audit({ page: 16, ...options });

    it('passes the log as written, checking every stored node and every signed checkpoint', async () => {
      const { leaves, checkpoints } = await snapshot();
      const report = await audit();
      expect(report).toMatchObject({ ok: true, size: leaves.length, checkpointsVerified: checkpoints.length });
    });

    it('names the index of a leaf whose bytes were changed', async () => {
      const { leaves } = await snapshot();
      const target = leaves[41];
      await ds.query(`UPDATE ledger_leaves SET leaf = $1 WHERE leaf_index = 41`, [Buffer.from('{"forged":1}')]);
      try {
        expect((await audit()).finding).toMatchObject({ code: 'AUDIT.LEAF_HASH_MISMATCH', index: 41 });
      } finally {
        await ds.query(`UPDATE ledger_leaves SET leaf = $1 WHERE leaf_index = 41`, [target.leaf]);
      }
    });

    it('names the index of a leaf rewritten together with its leaf hash', async () => {
      const { leaves } = await snapshot();
      const target = leaves[58];
      await ds.query(
        `UPDATE ledger_leaves SET leaf = convert_to('{"forged":2}', 'UTF8'),
                leaf_hash = sha256('\\x00'::bytea || convert_to('{"forged":2}', 'UTF8')) WHERE leaf_index = 58`,
      );
      try {
        expect((await audit()).finding).toMatchObject({
          code: 'AUDIT.NODE_MISMATCH',
          index: 58,
          node: { level: 0, index: 58 },
        });
        // Without the stored nodes only the checkpoints can catch it: the index is bounded by the last good one.
        const { finding } = await audit({ checkNodes: false });
        expect(finding).toMatchObject({ code: 'AUDIT.ROOT_MISMATCH' });
        expect(finding!.index).toBeLessThanOrEqual(58);
        expect(finding!.checkpointSize).toBeGreaterThan(58);
      } finally {
        await ds.query(`UPDATE ledger_leaves SET leaf = $1, leaf_hash = $2 WHERE leaf_index = 58`, [
          target.leaf,
          target.leaf_hash,
        ]);
      }
    });

    it('names the first leaf under a stored subtree hash that was changed', async () => {
      const [{ hash }] = await ds.query(`SELECT hash FROM ledger_nodes WHERE level = 3 AND idx = 5`);
      await ds.query(`UPDATE ledger_nodes SET hash = sha256(hash) WHERE level = 3 AND idx = 5`);
      try {
        expect((await audit()).finding).toMatchObject({
          code: 'AUDIT.NODE_MISMATCH',
          index: 40,
          node: { level: 3, index: 5 },
        });
      } finally {
        await ds.query(`UPDATE ledger_nodes SET hash = $1 WHERE level = 3 AND idx = 5`, [hash]);
      }
    });

    it('names a stored subtree hash or level-0 node that was deleted', async () => {
      for (const [level, idx, first] of [
        [2, 7, 28],
        [0, 50, 50],
      ]) {
        const [{ hash }] = await ds.query(`SELECT hash FROM ledger_nodes WHERE level = $1 AND idx = $2`, [level, idx]);
        await ds.query(`DELETE FROM ledger_nodes WHERE level = $1 AND idx = $2`, [level, idx]);
        try {
          expect((await audit()).finding).toMatchObject({
            code: 'AUDIT.NODE_MISSING',
            index: first,
            node: { level, index: idx },
          });
        } finally {
          await ds.query(`INSERT INTO ledger_nodes (level, idx, hash) VALUES ($1, $2, $3)`, [level, idx, hash]);
        }
      }
    });

    it('names a leaf whose stored hash was cut to another length', async () => {
      const [{ leaf_hash }] = await ds.query(`SELECT leaf_hash FROM ledger_leaves WHERE leaf_index = 17`);
      // Every value travels with its length, so a shorter hash cannot shift the leaves after it.
      await ds.query(`UPDATE ledger_leaves SET leaf_hash = substring(leaf_hash from 2) WHERE leaf_index = 17`);
      try {
        expect((await audit()).finding).toMatchObject({ code: 'AUDIT.LEAF_HASH_MISMATCH', index: 17 });
      } finally {
        await ds.query(`UPDATE ledger_leaves SET leaf_hash = $1 WHERE leaf_index = 17`, [leaf_hash]);
      }
    });

    it('names the index of a deleted leaf', async () => {
      const [row] = await ds.query(`SELECT * FROM ledger_leaves WHERE leaf_index = 33`);
      await ds.query(`DELETE FROM ledger_leaves WHERE leaf_index = 33`);
      try {
        expect((await audit()).finding).toMatchObject({ code: 'AUDIT.INDEX_GAP', index: 33 });
      } finally {
        await ds.query(
          `INSERT INTO ledger_leaves (leaf_index, event_id, event_type, subject, leaf, leaf_hash, appended_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [row.leaf_index, row.event_id, row.event_type, row.subject, row.leaf, row.leaf_hash, row.appended_at],
        );
      }
    });

    it('refuses a checkpoint whose note was edited', async () => {
      const [{ tree_size, note }] = await ds.query(
        `SELECT tree_size::text AS tree_size, note FROM ledger_checkpoints ORDER BY tree_size LIMIT 1`,
      );
      const lines = (note as string).split('\n');
      lines[1] = String(Number(lines[1]) + 1);
      await ds.query(`UPDATE ledger_checkpoints SET note = $1 WHERE tree_size = $2`, [lines.join('\n'), tree_size]);
      try {
        await expect(audit()).rejects.toMatchObject({ code: 'LEDGER.NOTE_BAD_SIGNATURE' });
        await expect(audit()).rejects.toBeInstanceOf(LedgerError);
      } finally {
        await ds.query(`UPDATE ledger_checkpoints SET note = $1 WHERE tree_size = $2`, [note, tree_size]);
      }
      expect((await audit()).ok).toBe(true);
    });

    it('after a key rotation, verifies the checkpoints the old key signed only with that key among the earlier ones', async () => {
      const rotated = parseSignerKey(generateNoteKey(ORIGIN).signerKey);
      const oldKey = app!.get<NoteSigner>(NOTE_SIGNER).verifierKey;
      const repo = app!.get(LedgerRepository);
      const withoutOld = new LedgerAuditService(ds, repo, rotated);
      await expect(withoutOld.audit({ page: 16 })).rejects.toBeInstanceOf(LedgerError);
      const withOld = new LedgerAuditService(ds, repo, rotated, [oldKey]);
      expect((await withOld.audit({ page: 16 })).ok).toBe(true);
      // As npm start configures it: the list names the signing key itself too.
      const listingItself = new LedgerAuditService(ds, repo, app!.get<NoteSigner>(NOTE_SIGNER), [oldKey]);
      expect((await listingItself.audit({ page: 16 })).ok).toBe(true);
    });

    it('passes again once every row is restored', async () => {
      expect((await audit()).ok).toBe(true);
    });
  });

  it('leaves the log unchanged when every topic is replayed from offset 0', async () => {
    const before = await snapshot();
    expect(before.leaves.map((l) => l.event_id)).toEqual(expect.arrayContaining(published.map((e) => e.id)));
    await stop();
    // Forget what the inbox saw: only the log's own dedupe by event id stands between the replay and the log.
    const url = config.databaseUrl;
    const cleaner = new DataSource({ type: 'postgres', url });
    await cleaner.initialize();
    const [{ n: inboxed }] = await cleaner.query(`SELECT count(*)::int AS n FROM inbox`);
    await cleaner.query(`DELETE FROM inbox`);
    await cleaner.destroy();

    const group = `ledger-replay-${uuidv4()}`; // a new consumer group starts every topic at offset 0
    await start(group);
    await waitFor('the replay of every topic', () => caughtUp(`${group}.ledger-anchoring`), { timeoutMs: 60_000 });
    const [{ n: replayed }] = await ds.query(`SELECT count(*)::int AS n FROM inbox`);
    expect(replayed).toBe(inboxed); // every event really went through the handler again

    const after = await snapshot();
    expect(after.leaves).toEqual(before.leaves);
    expect(after.nodes).toBe(before.nodes);
    expect(after.checkpoints).toEqual(before.checkpoints);
    expect((await app!.get(LedgerAuditService).audit()).ok).toBe(true);
  });
});
