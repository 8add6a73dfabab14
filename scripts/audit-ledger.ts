/**
 * Ops command: `npm run audit:ledger -- [--key <verifier key|@file>]... [--leaves-only]` runs ledger-anchoring's
 * audit of its own tables (every leaf rehashed, every stored node and signed checkpoint root matched) and prints
 * one JSON line naming the first index that does not match (see audit/ledger-audit.command.ts). The database comes
 * from DATABASE_URL/DATABASE_PREFIX (or LEDGER_ANCHORING_*), the keys from LEDGER_VERIFIER_KEY unless given.
 */
import { runLedgerAudit } from '../apps/ledger-anchoring/src';

runLedgerAudit(process.argv.slice(2), process).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stdout.write(JSON.stringify({ result: 'internal-error', message: String(error) }) + '\n');
    process.exitCode = 4;
  },
);
