import { readFile } from 'node:fs/promises';
import { generateNoteKey } from '@claimchain/ledger';
import { consistencyCommand } from './consistency.command';
import { flipBit, runVerifier } from './testing/cli.harness';
import { RemoteLogFixture, testEvent } from './testing/remote-log.fixture';
import { freshServedLogPerTest } from './testing/log-under-test';

describe(consistencyCommand.name, () => {
  const t = freshServedLogPerTest();

  let savedFile: string;

  beforeEach(async () => {
    t.log.grow(10);
    savedFile = await t.files.write('saved.txt', await t.log.checkpoint());
  });

  it('exits 0 when the log grew append-only, and saves the newer checkpoint', async () => {
    t.log.grow(27);
    const note = await t.log.publish();

    const { exit, result } = await t.runOnLog('consistency', '--old', savedFile, '--save', savedFile);

    expect(exit).toBe(0);
    expect(result).toMatchObject({ result: 'verified', oldSize: 10, treeSize: 37 });
    expect(await readFile(savedFile, 'utf8')).toBe(note);
  });

  it.each([0, 1, 8, 10])('exits 0 from a saved checkpoint of size %i', async (size) => {
    const saved = await t.files.write('s.txt', await t.log.checkpoint(size));
    t.log.grow(6);
    await t.log.publish();

    expect((await t.runOnLog('consistency', '--old', saved)).exit).toBe(0);
  });

  it('exits 1 when the log was rewritten and re-signed with the key', async () => {
    const fork = new RemoteLogFixture(t.log.keys);
    fork.append(...t.log.events.slice(0, 5), testEvent('claim-x'), ...t.log.events.slice(6)).grow(27);
    const forkServer = await fork.serve();
    await fork.publish();

    try {
      const { exit, result } = await runVerifier(
        'consistency',
        '--url',
        forkServer.url,
        '--key',
        t.key,
        '--old',
        savedFile,
      );

      expect(exit).toBe(1);
      expect(result).toMatchObject({
        code: 'VERIFIER.CONSISTENCY_INVALID',
        message: expect.stringMatching(/size 10.*size 37/),
      });
    } finally {
      await forkServer.close();
    }
  });

  it('exits 1 when the log shows another root for the saved size', async () => {
    const fork = new RemoteLogFixture(t.log.keys).append(...t.log.events.slice(0, 9), testEvent('claim-x'));
    t.log.servedCheckpoint = await fork.checkpoint();

    const { exit, result } = await t.runOnLog('consistency', '--old', savedFile);

    expect(exit).toBe(1);
    expect(result).toMatchObject({ code: 'VERIFIER.LOG_FORKED' });
  });

  it('exits 1 when the log shrank', async () => {
    t.log.servedCheckpoint = await t.log.checkpoint(9);

    const { exit, result } = await t.runOnLog('consistency', '--old', savedFile);

    expect(exit).toBe(1);
    expect(result.message).toMatch(/fewer than the saved checkpoint's 10: the log was truncated or rolled back/);
  });

  it('exits 1 for every single bit flipped in the served proof, and for extra or missing elements', async () => {
    t.log.grow(27);
    await t.log.publish();
    const forgeries: ((proof: Buffer[]) => Buffer[])[] = [
      (p) => [...p, p[0]],
      (p) => p.slice(0, -1),
      (p) => p.slice(1),
      () => [],
    ];
    for (let element = 0; element < 4; element++) {
      for (let bit = 0; bit < 256; bit += 7) {
        forgeries.push((p) => p.map((h, i) => (i === element ? flipBit(h, bit) : h)));
      }
    }
    for (const forge of forgeries) {
      t.log.forgeConsistencyProof = forge;

      const { exit, result } = await t.runOnLog('consistency', '--old', savedFile);

      expect({ exit, code: result.code }).toEqual({ exit: 1, code: 'VERIFIER.CONSISTENCY_INVALID' });
    }
  });

  it('exits 1 when the log answers with a proof between other sizes', async () => {
    t.log.grow(27);
    await t.log.publish();
    t.log.tamperAnswer = (_path, body) => body.replace('"from":10', '"from":9');

    const { exit, result } = await t.runOnLog('consistency', '--old', savedFile);

    expect(exit).toBe(1);
    expect(result).toMatchObject({
      code: 'VERIFIER.RESPONSE_INVALID',
      message: expect.stringMatching(/from 9 to 37/),
    });
  });

  it('exits 1 when a proof element is not base64 of a hash', async () => {
    t.log.grow(27);
    await t.log.publish();
    t.log.tamperAnswer = (_path, body) => body.replace(/"hashes":\["[^"]*"/, '"hashes":["AAAA"');

    const { exit, result } = await t.runOnLog('consistency', '--old', savedFile);

    expect(exit).toBe(1);
    expect(result.message).toMatch(/\/hashes\/0: Expected the standard base64 of a 32-byte hash/);
  });

  it('exits 2 when the saved checkpoint file is not a signed note', async () => {
    await t.log.publish();
    const garbage = await t.files.write('garbage.txt', 'hello\n');

    const { exit, result } = await t.runOnLog('consistency', '--old', garbage);

    expect(exit).toBe(2);
    expect(result).toMatchObject({ code: 'VERIFIER.INPUT_INVALID' });
  });

  it('exits 1 when the saved checkpoint was not signed by the key', async () => {
    await t.log.publish();
    const forged = await t.files.write(
      'forged.txt',
      await t.log.checkpoint(10, generateNoteKey('log.test/ledger').signerKey),
    );

    expect((await t.runOnLog('consistency', '--old', forged)).exit).toBe(1);
  });

  it('exits 2 without exactly one --old', async () => {
    const { exit } = await t.runOnLog('consistency', '--old', savedFile, '--old', savedFile);

    expect(exit).toBe(2);
  });
});
