import { runVerifier, TempFiles } from './testing/cli.harness';
import { RemoteLogFixture } from './testing/remote-log.fixture';
import { runCli, USAGE } from './verifier.cli';

describe(runCli.name, () => {
  const files = new TempFiles();
  const key = new RemoteLogFixture().keys.verifierKey;

  beforeAll(() => files.create());
  afterAll(() => files.remove());

  it.each([
    ['no command', []],
    ['an unknown command', ['verify', 'receipt.json', '--key', key]],
    ['an unknown option', ['audit', '--url', 'http://127.0.0.1:1', '--key', key, '--verbose']],
    ['an option without its value', ['audit', '--key', key, '--url']],
    ['an option the command does not take', ['receipt', 'receipt.json', '--key', key, '--url', 'http://x']],
    ['arguments to a command that takes none', ['audit', 'extra', '--url', 'http://127.0.0.1:1', '--key', key]],
    ['audit without --url', ['audit', '--key', key]],
    ['consistency without --old', ['consistency', '--url', 'http://127.0.0.1:1', '--key', key]],
    ['a timeout that is not a number', ['audit', '--url', 'http://127.0.0.1:1', '--key', key, '--timeout', 'soon']],
  ])('exits 2 with the usage on stderr for %s', async (_case, argv) => {
    const { exit, result, stderr } = await runVerifier(...argv);

    expect(exit).toBe(2);
    expect(result).toMatchObject({ result: 'invalid-input', code: 'VERIFIER.USAGE' });
    expect(stderr).toMatch(/^error: .*\nusage:/);
  });

  it('names the command in the result line', async () => {
    const { result } = await runVerifier('audit', '--key', key);

    expect(result.command).toBe('audit');
  });

  it('prints the usage on stdout for --help and exits 0', async () => {
    let stdout = '';
    const exit = await runCli(['receipt', '--help'], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: () => undefined },
    });

    expect({ exit, stdout }).toEqual({ exit: 0, stdout: USAGE });
  });
});
