/**
 * `claimchain-verify consistency --url <log> --key <vkey> --old <file>`: is the log's current checkpoint an
 * append-only extension of one saved earlier? Both must be signed by the key, and the log's RFC 9162 consistency
 * proof between their sizes must verify; a log that shrank or shows a different root for the same size has forked.
 */
import { verifyCheckpointNote } from './checkpoint.verifier';
import { CommandResult } from './command.result';
import { whyInconsistent } from './consistency.check';
import { VerifierKey } from './cli-input.reader';
import { LedgerHttpClient } from './ledger-http.client';
import { readSavedCheckpoint, saveCheckpoint } from './saved-checkpoint.file';
import { VerifierError } from './verifier.errors';

export interface ConsistencyCommandOptions {
  readonly url: string;
  readonly key: VerifierKey;
  readonly origin: string;
  readonly old: string;
  readonly save?: string;
  readonly timeoutMs: number;
}

export async function consistencyCommand(options: ConsistencyCommandOptions): Promise<CommandResult> {
  const { key, origin } = options;
  const client = new LedgerHttpClient(options.url, options.timeoutMs);
  const old = await readSavedCheckpoint(options.old, key.verifier, origin);
  const current = verifyCheckpointNote(await client.checkpoint(), key.verifier, origin, `the log's checkpoint`);
  const between = `saved checkpoint (size ${old.size}) and the log's checkpoint (size ${current.size})`;

  if (current.size < old.size) {
    throw new VerifierError(
      'VERIFIER.CONSISTENCY_INVALID',
      `the log's checkpoint has ${current.size} leaves, fewer than the saved checkpoint's ${old.size}: ` +
        `the log was truncated or rolled back`,
    );
  }
  if (current.size === old.size && !current.root.equals(old.root)) {
    throw new VerifierError(
      'VERIFIER.LOG_FORKED',
      `the saved checkpoint and the log's checkpoint are both signed for size ${old.size} with different roots: ` +
        `the log has shown two different histories`,
    );
  }
  const inconsistent = await whyInconsistent(client, old, current);
  if (inconsistent !== undefined) {
    throw new VerifierError(
      'VERIFIER.CONSISTENCY_INVALID',
      `the log cannot prove its checkpoint extends the saved one (${between}): ${inconsistent}; ` +
        `the log was rewritten or forked, or served a forged proof`,
    );
  }
  if (options.save !== undefined) await saveCheckpoint(options.save, current);
  return {
    summary: `log ${origin}: checkpoint of size ${current.size} extends the saved one of size ${old.size}`,
    details: {
      origin,
      oldSize: old.size,
      treeSize: current.size,
      root: current.root.toString('base64'),
    },
    warnings: [],
  };
}
