import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { loadLedgerAnchoringConfig } from '../../ledger-anchoring.config';
import { Topics } from '@claimchain/wire';
import { createHttpApp } from '@claimchain/http';
import { generateNoteKey } from '@claimchain/ledger';
import { buildEvent } from '@claimchain/messaging';
import { claimSubmittedDraft, freshDatabase } from '@claimchain/testing';
import { LedgerAnchoringModule } from '../../app.module';
import { LedgerAppenderService } from '../append/ledger-appender.service';
import { CheckpointService } from '../checkpoint/checkpoint.service';
import { runLedgerAudit } from './ledger-audit.command';
import { migrateService } from '../../../../../scripts/migrate';

/**
 * `npm run audit:ledger` on the real Postgres: a ledger written by the service (appends and signed checkpoints),
 * then stopped, audited by the command as ops run it — the database found through DATABASE_PREFIX, the keys from
 * LEDGER_VERIFIER_KEY or --key, and no signing key anywhere in its environment.
 */
describe(runLedgerAudit.name, () => {
  const prefix = `${process.env.DATABASE_PREFIX}_audit_cmd`;
  // The run's ledger key (global setup): LEDGER_VERIFIER_KEY is its public half.
  const env = { ...process.env, DATABASE_PREFIX: prefix, LEDGER_SIGNING_KEY_FILE: undefined };
  const otherKey = generateNoteKey(process.env.LEDGER_ORIGIN!).verifierKey;
  let db: DataSource;
  let treeSize: number;

  async function audit(args: string[], withEnv: NodeJS.ProcessEnv = env) {
    const lines: string[] = [];
    const code = await runLedgerAudit(args, {
      env: withEnv,
      stdout: { write: (line: string) => lines.push(line) },
      stderr: { write: () => true },
    });
    expect(lines).toHaveLength(1);
    return { code, json: JSON.parse(lines[0]) as Record<string, unknown> };
  }

  /** Changes a row for the length of `check`, then puts it back. */
  type Sql = [string, unknown[]?];
  async function tampered(change: Sql, restore: Sql, check: () => Promise<void>): Promise<void> {
    await db.query(...change);
    try {
      await check();
    } finally {
      await db.query(...restore);
    }
  }

  beforeAll(async () => {
    const url = await freshDatabase(`${prefix}_ledger_anchoring`);
    await migrateService('ledger-anchoring', url);
    const config = {
      ...loadLedgerAnchoringConfig({
        ...process.env,
        LEDGER_CHECKPOINT_INTERVAL_MS: '60000', // checkpoints when the test asks
        LOG_LEVEL: 'error',
      }),
      databaseUrl: url,
    };
    const app = await createHttpApp(LedgerAnchoringModule.forRoot(config), { logLevel: 'error' });
    await app.init();
    try {
      const ds = app.get(DataSource);
      for (let i = 0; i < 3; i++) {
        const batch = Array.from({ length: 20 }, () =>
          buildEvent(Topics.ClaimsSubmitted, claimSubmittedDraft(uuidv4(), { source: 'test/ledger-audit-command' })),
        );
        await ds.transaction((em) => app.get(LedgerAppenderService).appendBatch(em, batch));
        await app.get(CheckpointService).checkpointNow();
      }
    } finally {
      await app.close();
    }
    treeSize = 60;
    db = await new DataSource({ type: 'postgres', url }).initialize();
  });

  afterAll(async () => {
    await db?.destroy();
  });

  it('passes the log as written, checked with LEDGER_VERIFIER_KEY, and prints its size, root and checkpoints', async () => {
    const checkpoints: { tree_size: string; root_hash: Buffer }[] = await db.query(
      `SELECT tree_size::text AS tree_size, root_hash FROM ledger_checkpoints ORDER BY tree_size`,
    );
    expect(checkpoints.at(-1)?.tree_size).toBe(String(treeSize));
    expect(await audit([])).toEqual({
      code: 0,
      json: {
        result: 'ok',
        treeSize,
        root: checkpoints.at(-1)!.root_hash.toString('base64'),
        checkpointsVerified: checkpoints.length,
      },
    });
  });

  it('names the index of a leaf whose bytes were changed', async () => {
    const [{ leaf }] = await db.query(`SELECT leaf FROM ledger_leaves WHERE leaf_index = 41`);
    await tampered(
      [`UPDATE ledger_leaves SET leaf = convert_to('{"forged":1}', 'UTF8') WHERE leaf_index = 41`],
      [`UPDATE ledger_leaves SET leaf = $1 WHERE leaf_index = 41`, [leaf]],
      async () => {
        expect(await audit([])).toEqual({
          code: 1,
          json: { result: 'mismatch', code: 'AUDIT.LEAF_HASH_MISMATCH', index: 41, message: expect.any(String) },
        });
      },
    );
  });

  it('names the first leaf under a changed subtree hash, which --leaves-only does not read', async () => {
    const [{ hash }] = await db.query(`SELECT hash FROM ledger_nodes WHERE level = 3 AND idx = 5`);
    await tampered(
      [`UPDATE ledger_nodes SET hash = sha256(hash) WHERE level = 3 AND idx = 5`],
      [`UPDATE ledger_nodes SET hash = $1 WHERE level = 3 AND idx = 5`, [hash]],
      async () => {
        expect(await audit([])).toEqual({
          code: 1,
          json: {
            result: 'mismatch',
            code: 'AUDIT.NODE_MISMATCH',
            index: 40,
            node: { level: 3, index: 5 },
            message: expect.any(String),
          },
        });
        expect(await audit(['--leaves-only'])).toMatchObject({ code: 0, json: { result: 'ok', treeSize } });
      },
    );
  });

  it('reports a stored checkpoint whose note was edited', async () => {
    const [{ tree_size, note }] = await db.query(
      `SELECT tree_size::text AS tree_size, note FROM ledger_checkpoints ORDER BY tree_size LIMIT 1`,
    );
    const lines = (note as string).split('\n');
    lines[1] = String(Number(lines[1]) + 1);
    await tampered(
      [`UPDATE ledger_checkpoints SET note = $1 WHERE tree_size = $2`, [lines.join('\n'), tree_size]],
      [`UPDATE ledger_checkpoints SET note = $1 WHERE tree_size = $2`, [note, tree_size]],
      async () => {
        expect(await audit([])).toMatchObject({
          code: 1,
          json: {
            result: 'mismatch',
            code: 'LEDGER.NOTE_BAD_SIGNATURE',
            index: null,
            checkpointSize: Number(tree_size),
            message: expect.stringContaining(`stored checkpoint of tree size ${tree_size}:`),
          },
        });
      },
    );
  });

  it('exits the process with the finding’s code, which fails the CronJob’s Job (components/ledger-audit)', async () => {
    // The script the image runs (dist/scripts/audit-ledger.js), from its source: the exit status, not the return
    // value, is what the CronJob's podFailurePolicy sees.
    const root = resolve(__dirname, '../../../../..');
    const run = async () => {
      try {
        const { stdout } = await promisify(execFile)(join(root, 'node_modules/.bin/tsx'), ['scripts/audit-ledger.ts'], {
          cwd: root,
          env,
        });
        return { status: 0, result: (JSON.parse(stdout) as { result: string }).result };
      } catch (error) {
        const failed = error as { code: number; stdout: string };
        return { status: failed.code, result: (JSON.parse(failed.stdout) as { result: string }).result };
      }
    };
    expect(await run()).toEqual({ status: 0, result: 'ok' });
    const [{ leaf }] = await db.query(`SELECT leaf FROM ledger_leaves WHERE leaf_index = 7`);
    await tampered(
      [`UPDATE ledger_leaves SET leaf = convert_to('{"forged":1}', 'UTF8') WHERE leaf_index = 7`],
      [`UPDATE ledger_leaves SET leaf = $1 WHERE leaf_index = 7`, [leaf]],
      async () => expect(await run()).toEqual({ status: 1, result: 'mismatch' }),
    );
  });

  it('verifies with the keys --key names, current first, from a file too (after a rotation)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'claimchain-audit-cmd-')), 'verifier.key');
    writeFileSync(file, `${process.env.LEDGER_VERIFIER_KEY}\n`);
    const withoutEnvKey = { ...env, LEDGER_VERIFIER_KEY: undefined };
    expect(await audit(['--key', otherKey, '--key', `@${file}`], withoutEnvKey)).toMatchObject({
      code: 0,
      json: { result: 'ok', treeSize },
    });
    expect(await audit([`--key=${otherKey},${process.env.LEDGER_VERIFIER_KEY}`], withoutEnvKey)).toMatchObject({
      code: 0,
      json: { result: 'ok', treeSize },
    });
  });

  it.each([
    ['a malformed key', ['--key', 'not-a-key']],
    ["a key that signed none of the log's checkpoints", ['--key', otherKey]],
    ['a key file that is not there', ['--key', '@/nonexistent/verifier.key']],
    ['an unknown option', ['--nodes-only']],
    ['an argument', ['everything']],
  ])('refuses %s as bad input', async (_what, args) => {
    expect(await audit(args)).toMatchObject({ code: 2, json: { result: 'input-error', message: expect.any(String) } });
  });

  it('refuses to run without any key', async () => {
    expect(await audit([], { ...env, LEDGER_VERIFIER_KEY: undefined })).toMatchObject({
      code: 2,
      json: { result: 'input-error', message: expect.stringContaining('LEDGER_VERIFIER_KEY') },
    });
  });

  it('says the database is unreachable', async () => {
    expect(await audit(['--database', 'postgres://postgres@127.0.0.1:1/claimchain_ledger_anchoring'])).toMatchObject({
      code: 3,
      json: { result: 'unreachable' },
    });
  });
});
