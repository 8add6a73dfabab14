import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { loadLedgerAnchoringConfig } from '../../ledger-anchoring.config';
import { anchorsOf, CloudEvent, LedgerAnchoredV2, Topics } from '@claimchain/wire';
import { createHttpApp } from '@claimchain/http';
import {
  auditLog,
  generateNoteKey,
  hashLeaf,
  leafCommitment,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  verifyConsistency,
  verifyInclusion,
} from '@claimchain/ledger';
import { buildEvent } from '@claimchain/messaging';
import { freshDatabase, waitFor, claimSubmittedDraft } from '@claimchain/testing';
import { LedgerAnchoringModule } from '../../app.module';
import { LedgerAppenderService } from '../append/ledger-appender.service';
import { LEAF_SALTER, LeafSalter } from '../append/leaf-salt.key';
import { CheckpointService } from '../checkpoint/checkpoint.service';
import { migrateService } from '../../../../../scripts/migrate';

const ORIGIN = 'claimchain.int/ledger-read';

function claimEvent(): CloudEvent {
  return buildEvent(Topics.ClaimsSubmitted, claimSubmittedDraft(uuidv4(), { source: 'test/ledger-read' }));
}

const b64 = (s: string) => Buffer.from(s, 'base64');

interface Problem {
  status: number;
  code: string;
  errors?: { pointer: string; detail: string }[];
}

/**
 * The public read API on a ledger service with a real database, HTTP only (no consumer: the test appends through
 * the appender so the log's contents are exactly known). Every answer is checked the way an auditor would: with the
 * published key and the RFC 9162 verifier.
 */
describe('ledger read API', () => {
  let app: NestFastifyApplication;
  let base: string;
  let ds: DataSource;
  let anchorDir: string;
  const events: CloudEvent[] = [];
  const get = (path: string, accept = 'application/json') => fetch(base + path, { headers: { accept } });
  const json = async <T>(path: string): Promise<{ status: number; body: T; type: string | null }> => {
    const res = await get(path);
    return { status: res.status, body: (await res.json()) as T, type: res.headers.get('content-type') };
  };

  async function append(n: number): Promise<void> {
    const batch = Array.from({ length: n }, claimEvent);
    await ds.transaction((em) => app.get(LedgerAppenderService).appendBatch(em, batch));
    events.push(...batch);
  }

  /** The leaf the ledger wrote for an event: salted (v2) with the salt it derives (ADR 16). */
  const leafOf = (event: CloudEvent) => leafCommitment(event, app.get<LeafSalter>(LEAF_SALTER).saltOf(event.id));

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'claimchain-ledger-read-'));
    anchorDir = join(dir, 'anchors');
    writeFileSync(join(dir, 'signing.key'), generateNoteKey(ORIGIN).signerKey, { mode: 0o600 });
    const url = await freshDatabase(`${process.env.DATABASE_PREFIX}_ledger_read`);
    await migrateService('ledger-anchoring', url);
    const config = {
      ...loadLedgerAnchoringConfig({
        ...process.env,
        LEDGER_ORIGIN: ORIGIN,
        LEDGER_SIGNING_KEY_FILE: join(dir, 'signing.key'),
        LEDGER_CHECKPOINT_INTERVAL_MS: '60000', // checkpoints only when the test asks
        LEDGER_ANCHOR_DIR: anchorDir,
        LOG_LEVEL: 'warn',
      }),
      databaseUrl: url,
    };
    app = await createHttpApp(LedgerAnchoringModule.forRoot(config), { logLevel: 'warn' });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    ds = app.get(DataSource);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('has no checkpoint before the first one is signed', async () => {
    const { status, body, type } = await json<Problem>('/v1/ledger/checkpoint');
    expect({ status, code: body.code, type }).toEqual({
      status: 404,
      code: 'LEDGER.NO_CHECKPOINT',
      type: expect.stringContaining('application/problem+json'),
    });
  });

  describe('with a checkpointed log', () => {
    let vkey: string;
    let firstSize: number;
    let firstRoot: Buffer;

    beforeAll(async () => {
      await append(13);
      await app.get(CheckpointService).checkpointNow();
      vkey = (await (await get('/v1/ledger/public-key', 'text/plain')).text()).trim();
      ({ size: firstSize, root: firstRoot } = await latest());
      await append(30);
      await app.get(CheckpointService).checkpointNow();
    });

    async function latest() {
      const note = await (await get('/v1/ledger/checkpoint', 'text/plain')).text();
      return parseCheckpoint(openNote(note, [parseVerifierKey(vkey)]).text);
    }

    it('serves the checkpoint as a signed note, and as JSON on Accept: application/json', async () => {
      const text = await get('/v1/ledger/checkpoint', 'text/plain');
      expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      const note = await text.text();
      const checkpoint = parseCheckpoint(openNote(note, [parseVerifierKey(vkey)]).text);
      expect(checkpoint).toMatchObject({ origin: ORIGIN, size: 43 });

      const { body, type } = await json<Record<string, unknown>>('/v1/ledger/checkpoint');
      expect(type).toContain('application/json');
      expect(body).toEqual({ origin: ORIGIN, treeSize: 43, rootHash: checkpoint.root.toString('base64'), note });
    });

    it('serves entries [start, end) whose leaves are the event commitments', async () => {
      const { status, body } = await json<{ entries: Record<string, unknown>[] }>('/v1/ledger/entries?start=3&end=6');
      expect(status).toBe(200);
      expect(body.entries).toEqual(
        [3, 4, 5].map((i) => {
          const leaf = leafOf(events[i]);
          return {
            index: i,
            eventId: events[i].id,
            eventType: 'claim.submitted',
            leaf: leaf.toString('base64'),
            leafHash: hashLeaf(leaf).toString('base64'),
          };
        }),
      );
    });

    it('serves only entries a checkpoint covers', async () => {
      await append(2); // in the log, not yet checkpointed
      const { body } = await json<{ entries: { index: number }[] }>('/v1/ledger/entries?start=40&end=100');
      expect(body.entries.map((e) => e.index)).toEqual([40, 41, 42]);
    });

    it.each([
      ['start=0&end=1001', '/end', 'At most 1000'],
      ['start=5&end=4', '/end', 'below start'],
      ['start=-1&end=4', '/start', 'non-negative integer'],
      ['start=1e3&end=1001', '/start', 'non-negative integer'],
      ['end=4', '/start', 'Required'],
    ])('refuses entries?%s with a problem naming %s', async (query, pointer, detail) => {
      const { status, body, type } = await json<Problem>(`/v1/ledger/entries?${query}`);
      expect({ status, type, code: body.code }).toEqual({
        status: 400,
        type: expect.stringContaining('application/problem+json'),
        code: 'LEDGER.QUERY_INVALID',
      });
      expect(body.errors).toEqual([{ pointer, detail: expect.stringContaining(detail) }]);
    });

    it('proves inclusion by index and by leaf hash, against the signed root', async () => {
      const checkpoint = await latest();
      const leafHash = hashLeaf(leafOf(events[7]));
      const byIndex = await json<{ leafIndex: number; treeSize: number; leafHash: string; hashes: string[] }>(
        `/v1/ledger/proofs/inclusion?index=7&treeSize=${checkpoint.size}`,
      );
      const byHash = await json<typeof byIndex.body>(
        `/v1/ledger/proofs/inclusion?leafHash=${encodeURIComponent(leafHash.toString('base64'))}`,
      );
      expect(byHash.body).toEqual(byIndex.body);
      expect(byIndex.body).toMatchObject({ leafIndex: 7, treeSize: 43, leafHash: leafHash.toString('base64') });
      expect(() =>
        verifyInclusion(leafHash, 7, checkpoint.size, byIndex.body.hashes.map(b64), checkpoint.root),
      ).not.toThrow();
    });

    it('takes a leaf hash whose + arrived as a space', async () => {
      const hash = events.map((e) => hashLeaf(leafOf(e)).toString('base64')).find((h) => h.includes('+'))!;
      const { status } = await json(`/v1/ledger/proofs/inclusion?leafHash=${hash}`);
      expect(status).toBe(200);
    });

    it.each([
      ['index=1', 422, 'LEDGER.TREE_SIZE_UNKNOWN', '?treeSize=999'],
      ['index=50', 422, 'LEDGER.INDEX_OUT_OF_RANGE', ''],
      [`leafHash=${encodeURIComponent(Buffer.alloc(32).toString('base64'))}`, 404, 'LEDGER.LEAF_NOT_FOUND', ''],
    ])('refuses an inclusion proof for %s%s', async (query, status, code, extra) => {
      const q = extra ? `${query}&${extra.slice(1)}` : query;
      const res = await json<Problem>(`/v1/ledger/proofs/inclusion?${q}`);
      expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
    });

    it.each([
      [`index=1&leafHash=${encodeURIComponent(Buffer.alloc(32).toString('base64'))}`, ['/index']],
      ['', ['/index']],
      ['leafHash=abc', ['/leafHash']],
      ['index=1&treeSize=0', ['/treeSize']],
    ])('refuses inclusion?%s naming %j', async (query, pointers) => {
      const { status, body } = await json<Problem>(`/v1/ledger/proofs/inclusion?${query}`);
      expect(status).toBe(400);
      expect(body.errors!.map((e) => e.pointer).sort()).toEqual([...pointers].sort());
    });

    it('proves the latest checkpoint consistent with an earlier one', async () => {
      const checkpoint = await latest();
      const { status, body } = await json<{ from: number; to: number; hashes: string[] }>(
        `/v1/ledger/proofs/consistency?from=${firstSize}&to=${checkpoint.size}`,
      );
      expect(status).toBe(200);
      expect(body).toMatchObject({ from: 13, to: 43 });
      expect(() =>
        verifyConsistency(firstSize, checkpoint.size, body.hashes.map(b64), firstRoot, checkpoint.root),
      ).not.toThrow();
    });

    it('refuses a consistency proof beyond the checkpoint or backwards', async () => {
      const beyond = await json<Problem>('/v1/ledger/proofs/consistency?from=1&to=44');
      expect({ status: beyond.status, code: beyond.body.code }).toEqual({
        status: 422,
        code: 'LEDGER.TREE_SIZE_UNKNOWN',
      });
      const backwards = await json<Problem>('/v1/ledger/proofs/consistency?from=9&to=3');
      expect(backwards.body.errors).toEqual([{ pointer: '/from', detail: 'Must not exceed to' }]);
    });

    it('serves a receipt that verifies offline with only the verifier key', async () => {
      const event = events[20];
      const { status, body } = await json<{
        eventId: string;
        leafIndex: number;
        leaf: string;
        leafHash: string;
        treeSize: number;
        inclusionProof: string[];
        checkpoint: string;
      }>(`/v1/ledger/events/${event.id}/receipt`);
      expect(status).toBe(200);
      expect(Object.keys(body).sort()).toEqual(
        ['checkpoint', 'eventId', 'inclusionProof', 'leaf', 'leafHash', 'leafIndex', 'treeSize'].sort(),
      );
      // The holder of the event recomputes the leaf; the note and the proof do the rest.
      expect(b64(body.leaf)).toEqual(leafOf(event));
      const checkpoint = parseCheckpoint(openNote(body.checkpoint, [parseVerifierKey(vkey)]).text);
      expect(checkpoint.size).toBe(body.treeSize);
      expect(() =>
        verifyInclusion(
          hashLeaf(b64(body.leaf)),
          body.leafIndex,
          body.treeSize,
          body.inclusionProof.map(b64),
          checkpoint.root,
        ),
      ).not.toThrow();
    });

    it('announces each checkpoint in one ledger.anchored.v2 notice listing every event it covers, each with its proof', async () => {
      const rows: { payload: { data: LedgerAnchoredV2 } }[] = await ds.query(
        `SELECT payload FROM outbox WHERE topic = 'ledger.anchored.v2' ORDER BY seq`,
      );
      // The two checkpoints so far (13 and 43 leaves), one notice each (in one part: both are small).
      expect(rows.map((r) => [r.payload.data.treeSize, r.payload.data.part, r.payload.data.parts])).toEqual([
        [13, 1, 1],
        [43, 1, 1],
      ]);
      const anchors = rows.flatMap((r) => anchorsOf(r.payload.data));
      expect(anchors.map((a) => a.eventId)).toEqual(events.slice(0, 43).map((e) => e.id));
      expect(anchors.map((a) => a.leafIndex)).toEqual([...Array(43).keys()]);
      for (const a of anchors) {
        const { root, size } = parseCheckpoint(openNote(a.checkpoint, [parseVerifierKey(vkey)]).text);
        expect(size).toBe(a.treeSize);
        expect(root.toString('base64')).toBe(a.rootHash);
        expect(() =>
          verifyInclusion(b64(a.leafHash), a.leafIndex, size, a.inclusionProof.map(b64), root),
        ).not.toThrow();
      }
    });

    it('answers 404 for a receipt of an unknown event, and of one no checkpoint covers yet', async () => {
      const unknown = await json<Problem>(`/v1/ledger/events/${uuidv4()}/receipt`);
      expect({ status: unknown.status, code: unknown.body.code }).toEqual({
        status: 404,
        code: 'LEDGER.EVENT_NOT_FOUND',
      });
      await append(1);
      const pending = await json<Problem>(`/v1/ledger/events/${events[events.length - 1].id}/receipt`);
      expect({ status: pending.status, code: pending.body.code }).toEqual({
        status: 404,
        code: 'LEDGER.EVENT_NOT_ANCHORED',
      });
      const bad = await json<Problem>('/v1/ledger/events/not-a-uuid/receipt');
      expect(bad.body.errors).toEqual([{ pointer: '/eventId', detail: 'Invalid uuid' }]);
    });

    it('writes each checkpoint to the anchor directory once it commits', async () => {
      const size = (await app.get(CheckpointService).checkpointNow())!;
      const publisher = app.get(CheckpointService)['anchors'];
      publisher.kick();
      await publisher.idle();
      const files = readdirSync(anchorDir).sort();
      expect(files).toEqual(['13.checkpoint', '43.checkpoint', `${size}.checkpoint`].sort());
      const note = await (await get('/v1/ledger/checkpoint', 'text/plain')).text();
      expect(readFileSync(join(anchorDir, `${size}.checkpoint`), 'utf8')).toBe(note);
    });

    it('lets an auditor with only the public API find a changed leaf', async () => {
      const checkpoint = await latest();
      const fetchAll = async () =>
        (
          await json<{ entries: { index: number; leaf: string; leafHash: string }[] }>(
            `/v1/ledger/entries?start=0&end=${checkpoint.size}`,
          )
        ).body.entries.map((e) => ({ index: e.index, leaf: b64(e.leaf), leafHash: b64(e.leafHash) }));
      expect(auditLog(await fetchAll(), [checkpoint])).toMatchObject({ ok: true, size: checkpoint.size });

      await ds.query(`UPDATE ledger_leaves SET leaf = convert_to('{"forged":true}', 'UTF8') WHERE leaf_index = 17`);
      try {
        expect(auditLog(await fetchAll(), [checkpoint]).finding).toMatchObject({
          code: 'AUDIT.LEAF_HASH_MISMATCH',
          index: 17,
        });
      } finally {
        await ds.query(`UPDATE ledger_leaves SET leaf = $1 WHERE leaf_index = 17`, [leafOf(events[17])]);
      }
      await waitFor('the restored log to audit clean', async () => auditLog(await fetchAll(), [checkpoint]).ok);
    });
  });
});
