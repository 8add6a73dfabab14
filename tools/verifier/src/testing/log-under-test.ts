/**
 * The per-test setup the command specs share: a fresh temporary directory, a fresh remote log with its own key and,
 * for the commands that talk to a log, that log served over HTTP. Register it once in a describe; read the current
 * test's log through the returned object (its fields are replaced before each test).
 */
import { CliRun, runVerifier, TempFiles } from './cli.harness';
import { RemoteLogFixture, ServedLog } from './remote-log.fixture';

export interface LogUnderTest {
  readonly files: TempFiles;
  log: RemoteLogFixture;
  /** The log's verifier key, as `--key` takes it. */
  key: string;
}

export interface ServedLogUnderTest extends LogUnderTest {
  /** Replace it in a test to serve again; the one set last is closed after the test. */
  served: ServedLog;
  /** Runs `command` against the served log with its key: `--url <served> --key <key> ...args`. */
  runOnLog(command: string, ...args: string[]): Promise<CliRun>;
}

export function freshLogPerTest(): LogUnderTest {
  // The fields are set by beforeEach before any test reads them.
  const t = { files: new TempFiles() } as LogUnderTest;
  beforeEach(async () => {
    await t.files.create();
    t.log = new RemoteLogFixture();
    t.key = t.log.keys.verifierKey;
  });
  afterEach(() => t.files.remove());
  return t;
}

export function freshServedLogPerTest(): ServedLogUnderTest {
  const t = freshLogPerTest() as ServedLogUnderTest;
  t.runOnLog = (command, ...args) => runVerifier(command, '--url', t.served.url, '--key', t.key, ...args);
  beforeEach(async () => {
    t.served = await t.log.serve();
  });
  afterEach(() => t.served.close());
  return t;
}
