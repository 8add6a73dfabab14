/**
 * Ops command: `npm run replay -- <claimId> [--key <ledger verifier key>]` re-adjudicates a decided claim from
 * ledger-proven inputs and prints whether the decision is byte-identical (see replay/claim-replay.ts). Payout's
 * database comes from DATABASE_URL/DATABASE_PREFIX (or PAYOUT_*), the ledger from LEDGER_URL.
 */
import { runReplay } from '../apps/payout/src';

runReplay(process.argv.slice(2), process).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stdout.write(JSON.stringify({ result: 'internal-error', message: String(error) }) + '\n');
    process.exitCode = 4;
  },
);
