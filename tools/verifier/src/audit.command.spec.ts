import { readFile } from 'node:fs/promises';
import { generateNoteKey, hashLeaf } from '@claimchain/ledger';
import { auditCommand } from './audit.command';
import { runVerifier } from './testing/cli.harness';
import { RemoteLogFixture, testEvent } from './testing/remote-log.fixture';
import { freshServedLogPerTest } from './testing/log-under-test';

describe(auditCommand.name, () => {
  const t = freshServedLogPerTest();

  it('verifies every entry, fetching in the pages the log serves, and saves the checkpoint', async () => {
    t.log.maxPageSize = 700;
    t.log.grow(2500);
    const note = await t.log.publish();
    const saveTo = t.files.path('checkpoint.txt');

    const { exit, result } = await t.runOnLog('audit', '--save', saveTo);

    expect(exit).toBe(0);
    expect(result).toMatchObject({
      result: 'verified',
      command: 'audit',
      treeSize: 2500,
      root: (await t.log.root()).toString('base64'),
    });
    expect(await readFile(saveTo, 'utf8')).toBe(note);
    expect(t.log.requests.filter((r) => r.startsWith('/v1/ledger/entries'))).toEqual([
      '/v1/ledger/entries?start=0&end=1000',
      '/v1/ledger/entries?start=700&end=1700',
      '/v1/ledger/entries?start=1400&end=2400',
      '/v1/ledger/entries?start=2100&end=2500',
    ]);
  });

  it('verifies the empty log', async () => {
    await t.log.publish();

    expect((await t.runOnLog('audit')).result).toMatchObject({ treeSize: 0 });
  });

  it('exits 1 naming the first index whose stored leaf was changed', async () => {
    t.log.grow(2500);
    await t.log.publish();
    t.log.leaves[1234] = Buffer.from(t.log.leaves[1234].toString().replace('acme-health', 'other-insurer'));
    t.log.leaves[2001] = Buffer.from('{}');

    const { exit, result, stderr } = await t.runOnLog('audit');

    expect(exit).toBe(1);
    expect(result).toMatchObject({ result: 'failed', code: 'VERIFIER.LEAF_HASH_MISMATCH', leafIndex: 1234 });
    expect(stderr).toBe('FAILED: leaf 1234: stored hash does not match its leaf\n');
  });

  it('exits 1 naming the index whose stored hash was changed', async () => {
    t.log.grow(50);
    await t.log.publish();
    t.log.leafHashes[41] = hashLeaf(Buffer.from('forged'));

    expect((await t.runOnLog('audit')).result).toMatchObject({ leafIndex: 41 });
  });

  it('exits 1 naming a leaf rewritten together with its stored hash, located by consistency proofs', async () => {
    t.log.maxPageSize = 700;
    t.log.grow(2500);
    await t.log.publish();
    t.log.leaves[1234] = Buffer.from(t.log.leaves[1234].toString().replace('acme-health', 'other-insurer'));
    t.log.leafHashes[1234] = hashLeaf(t.log.leaves[1234]);

    const { exit, result } = await t.runOnLog('audit');

    expect(exit).toBe(1);
    expect(result).toMatchObject({
      code: 'VERIFIER.ROOT_MISMATCH',
      leafIndex: 1234,
      message: expect.stringMatching(/^leaf 1234: not the leaf the log's signed checkpoint \(size 2500\) holds/),
    });
  });

  it.each([0, 1, 699, 700, 2499])('locates a consistent rewrite of leaf %i', async (index) => {
    t.log.maxPageSize = 700;
    t.log.grow(2500);
    await t.log.publish();
    t.log.leaves[index] = Buffer.from(t.log.leaves[index].toString().replace('acme-health', 'other-insurer'));
    t.log.leafHashes[index] = hashLeaf(t.log.leaves[index]);

    expect((await t.runOnLog('audit')).result).toMatchObject({
      leafIndex: index,
    });
  });

  it('still exits 1, with the range, when the log cannot prove where the rewrite is', async () => {
    t.log.grow(50);
    await t.log.publish();
    t.log.leaves[41] = Buffer.from(t.log.leaves[41].toString().replace('acme-health', 'other-insurer'));
    t.log.leafHashes[41] = hashLeaf(t.log.leaves[41]);
    t.log.forgeConsistencyProof = () => {
      throw new Error('proofs unavailable');
    };

    const { exit, result } = await t.runOnLog('audit');

    expect(exit).toBe(1);
    expect(result.message).toMatch(
      /^leaves 0\.\.49 do not hash to the root of the log's signed checkpoint .* \(could not narrow it down: .*500/,
    );
  });

  it('exits 1 when a log re-signed with the key no longer has the root of a saved checkpoint', async () => {
    t.log.grow(60);
    const saved = await t.files.write('saved.txt', await t.log.checkpoint(50));
    const rewritten = new RemoteLogFixture(t.log.keys);
    rewritten.append(...t.log.events.slice(0, 41), testEvent('claim-x'), ...t.log.events.slice(42));
    const rewrittenServer = await rewritten.serve();
    await rewritten.publish();

    try {
      const { exit, result } = await runVerifier('audit', '--url', rewrittenServer.url, '--key', t.key, '--old', saved);

      expect(exit).toBe(1);
      expect(result).toMatchObject({
        code: 'VERIFIER.CONSISTENCY_INVALID',
        message: expect.stringMatching(/cannot be proven to extend saved checkpoint .*saved\.txt \(size 50\)/),
      });
    } finally {
      await rewrittenServer.close();
    }
  });

  it('locates a consistent rewrite below a saved checkpoint the log still extends', async () => {
    t.log.grow(60);
    const saved = await t.files.write('saved.txt', await t.log.checkpoint(50));
    await t.log.publish();
    t.log.leaves[41] = Buffer.from(t.log.leaves[41].toString().replace('acme-health', 'other-insurer'));
    t.log.leafHashes[41] = hashLeaf(t.log.leaves[41]);

    const { exit, result } = await t.runOnLog('audit', '--old', saved);

    expect(exit).toBe(1);
    expect(result).toMatchObject({ code: 'VERIFIER.ROOT_MISMATCH', leafIndex: 41 });
  });

  it('exits 1 when a saved checkpoint and the log are signed for one size with different roots', async () => {
    t.log.grow(10);
    const fork = new RemoteLogFixture(t.log.keys).append(...t.log.events.slice(0, 9), testEvent('claim-x'));
    const saved = await t.files.write('saved.txt', await fork.checkpoint());
    await t.log.publish();

    const { exit, result } = await t.runOnLog('audit', '--old', saved);

    expect(exit).toBe(1);
    expect(result).toMatchObject({ code: 'VERIFIER.LOG_FORKED' });
  });

  it('exits 1 when a saved checkpoint is larger than the log', async () => {
    t.log.grow(10);
    const saved = await t.files.write('saved.txt', await t.log.checkpoint());
    t.log.servedCheckpoint = await t.log.checkpoint(9);

    const { exit, result } = await t.runOnLog('audit', '--old', saved);

    expect(exit).toBe(1);
    expect(result).toMatchObject({ code: 'VERIFIER.CONSISTENCY_INVALID' });
  });

  it.each<[string, (body: string) => string, RegExp]>([
    ['is not JSON', () => '<html>maintenance</html>', /entries\?start=0&end=30: the log's answer is not JSON/],
    [
      'lacks a field',
      (b) => b.replace(/,"leafHash":"[^"]*"/, ''),
      /unexpected answer \(\/entries\/0\/leafHash: Required/,
    ],
    ['is empty', () => '{"entries":[]}', /^leaf 0: the log served no entries from 0, though its checkpoint has 30$/],
    [
      'skips an entry',
      (b) => JSON.stringify({ entries: (JSON.parse(b) as { entries: unknown[] }).entries.filter((_, i) => i !== 20) }),
      /^leaf 20: the log served entry 21 in its place$/,
    ],
  ])('exits 1 when the entries answer %s', async (_case, tamper, message) => {
    t.log.grow(30);
    await t.log.publish();
    t.log.tamperAnswer = (_path, body) => tamper(body);

    const { exit, result } = await t.runOnLog('audit');

    expect(exit).toBe(1);
    expect(result).toMatchObject({ result: 'failed', message: expect.stringMatching(message) });
  });

  describe('with a directory of checkpoints, as the anchor sink writes them', () => {
    let dir: string;

    beforeEach(async () => {
      t.log.grow(1000);
      for (let size = 100; size <= 1000; size += 100) {
        await t.files.write(`anchors/${size}.checkpoint`, await t.log.checkpoint(size));
      }
      dir = t.files.path('anchors');
      await t.log.publish();
    });

    it('checks the root at every checkpoint it holds', async () => {
      const { exit, result, stderr } = await t.runOnLog('audit', '--checkpoints', dir);

      expect(exit).toBe(0);
      expect(result).toMatchObject({ treeSize: 1000, earlierCheckpoints: 10, warnings: [] });
      expect(stderr).toMatch(/and 10 earlier checkpoint\(s\)/);
    });

    it('locates a consistent rewrite after the last checkpoint that matched', async () => {
      t.log.leaves[734] = Buffer.from(t.log.leaves[734].toString().replace('acme-health', 'other-insurer'));
      t.log.leafHashes[734] = hashLeaf(t.log.leaves[734]);

      const { result } = await t.runOnLog('audit', '--checkpoints', dir);

      expect(result).toMatchObject({ code: 'VERIFIER.ROOT_MISMATCH', leafIndex: 734 });
      // Below the last checkpoint that matched (700) nothing needed proving.
      const proofsFrom = t.log.requests
        .filter((r) => r.startsWith('/v1/ledger/proofs/consistency'))
        .map((r) => Number(new URL(r, 'http://log').searchParams.get('from')));
      expect(Math.min(...proofsFrom)).toBeGreaterThanOrEqual(700);
    });

    it('exits 1 when a checkpoint in it was not signed by the key', async () => {
      await t.files.write(
        'anchors/300.checkpoint',
        await t.log.checkpoint(300, generateNoteKey('log.test/ledger').signerKey),
      );

      const { exit, result } = await t.runOnLog('audit', '--checkpoints', dir);

      expect(exit).toBe(1);
      expect(result).toMatchObject({
        code: 'VERIFIER.SIGNATURE_INVALID',
        message: expect.stringMatching(/300\.checkpoint/),
      });
    });

    it('warns when it holds no checkpoints', async () => {
      const empty = t.files.path('empty');
      await t.files.write('empty/README', 'nothing here');

      const { exit, result } = await t.runOnLog('audit', '--checkpoints', empty);

      expect(exit).toBe(0);
      expect(result.warnings).toEqual([`no *.checkpoint files in ${empty}`]);
    });

    it('exits 2 when it does not exist', async () => {
      const { exit, result } = await t.runOnLog('audit', '--checkpoints', t.files.path('nope'));

      expect(exit).toBe(2);
      expect(result).toMatchObject({ code: 'VERIFIER.INPUT_UNREADABLE' });
    });
  });

  it('exits 1 when the log serves a checkpoint signed with another key', async () => {
    t.log.grow(5);
    t.log.servedCheckpoint = await t.log.checkpoint(5, generateNoteKey('log.test/ledger').signerKey);

    const { exit, result } = await t.runOnLog('audit');

    expect(exit).toBe(1);
    expect(result).toMatchObject({ code: 'VERIFIER.SIGNATURE_INVALID' });
  });

  it.each([
    [503, 'the log answered 503'],
    [404, 'the log answered 404'],
  ])('exits 3 when the log answers %i', async (status, message) => {
    t.log.grow(5);
    await t.log.publish();
    t.log.failWith = status;

    const { exit, result } = await t.runOnLog('audit');

    expect(exit).toBe(3);
    expect(result).toMatchObject({
      result: 'unreachable',
      code: 'VERIFIER.LOG_UNAVAILABLE',
      message: expect.stringContaining(message),
    });
  });

  it('exits 3 when nothing listens at the URL', async () => {
    const url = t.served.url;
    await t.served.close();
    t.served = await t.log.serve(); // afterEach closes this one

    const { exit, result } = await runVerifier('audit', '--url', url, '--key', t.key);

    expect(exit).toBe(3);
    expect(result.message).toMatch(/cannot reach the log at .*: ECONNREFUSED/);
  });

  it('exits 3 when the log does not answer within --timeout', async () => {
    t.log.stall = true;

    const { exit, result } = await t.runOnLog('audit', '--timeout', '0.2');

    expect(exit).toBe(3);
    expect(result.message).toMatch(/checkpoint: timed out$/);
  });

  it('exits 2 for a URL that is not http', async () => {
    expect((await runVerifier('audit', '--url', 'ftp://log', '--key', t.key)).exit).toBe(2);
  });
});
