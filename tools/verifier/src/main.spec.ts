import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateNoteKey } from '@claimchain/ledger';
import { RemoteLogFixture, testEvent } from './testing/remote-log.fixture';
import { USAGE } from './verifier.cli';

// The real executable in a child process: what a script sees is the exit status and the lines, nothing else.
const ROOT = resolve(__dirname, '../../..');
const MAIN = join(ROOT, 'tools/verifier/src/main.ts');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

function claimchainVerify(...args: string[]): Promise<{ exit: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(TSX, [MAIN, ...args], { cwd: ROOT, timeout: 20_000 }, (err, stdout, stderr) => {
      const exit = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      done({ exit, stdout, stderr });
    });
  });
}

describe('claimchain-verify', () => {
  const log = new RemoteLogFixture().grow(4).append(testEvent('claim-7')).grow(300);
  let dir: string;
  let receiptFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'claimchain-verify-'));
    receiptFile = join(dir, 'receipt.json');
    await writeFile(receiptFile, JSON.stringify(await log.receipt('claim-7')));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 0 with one JSON line on stdout for a valid receipt', async () => {
    const { exit, stdout } = await claimchainVerify('receipt', receiptFile, '--key', log.keys.verifierKey);

    expect(exit).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(stdout)).toMatchObject({ result: 'verified', claimId: 'claim-7' });
  });

  it('exits 1 with the reason on stderr under the wrong key', async () => {
    const { exit, stdout, stderr } = await claimchainVerify(
      'receipt',
      receiptFile,
      '--key',
      generateNoteKey('x').verifierKey,
    );

    expect(exit).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ result: 'failed', code: 'VERIFIER.SIGNATURE_INVALID' });
    expect(stderr).toMatch(/^FAILED: entry 0 /);
  });

  it('audits a log over HTTP and exits as soon as it is done', async () => {
    const served = await log.serve();
    await log.publish();
    try {
      const { exit, stdout } = await claimchainVerify('audit', '--url', served.url, '--key', log.keys.verifierKey);

      expect(exit).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ result: 'verified', treeSize: 305 });
    } finally {
      await served.close();
    }
  });

  it('exits 3 when the log cannot be reached', async () => {
    const served = await log.serve();
    await served.close();

    const { exit, stdout } = await claimchainVerify('audit', '--url', served.url, '--key', log.keys.verifierKey);

    expect(exit).toBe(3);
    expect(JSON.parse(stdout)).toMatchObject({ result: 'unreachable', message: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('prints the usage on --help and exits 0', async () => {
    const { exit, stdout } = await claimchainVerify('--help');

    expect({ exit, stdout }).toEqual({ exit: 0, stdout: USAGE });
  });
});
