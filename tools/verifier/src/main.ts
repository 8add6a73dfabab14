#!/usr/bin/env node
/**
 * The `claimchain-verify` executable (built to dist/tools/verifier/src/main.js). Node exits 1 on a crash, which a
 * script would read as "the log failed verification"; so the CLI is loaded here rather than imported, and anything
 * that escapes it — a missing module included — exits 4 with the usual JSON line. The exit status is set, not
 * forced with process.exit, so stdout is flushed before the process ends.
 */
const EXIT_INTERNAL = 4;

function reportCrash(err: unknown, then?: () => void): void {
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.exitCode = EXIT_INTERNAL;
  process.stderr.write(`internal error (a bug in the verifier, not a finding about the log): ${message}\n`);
  process.stdout.write(JSON.stringify({ result: 'internal-error', message }) + '\n', then);
}

// Thrown outside the CLI's promise chain (a callback, a timer): whatever still runs cannot be trusted to finish.
process.on('uncaughtException', (err) => reportCrash(err, () => process.exit()));

import('./verifier.cli')
  .then(({ runCli }) => runCli(process.argv.slice(2), process))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => reportCrash(err),
  );
