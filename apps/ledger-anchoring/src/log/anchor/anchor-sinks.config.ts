import { z } from 'zod';
import { envPrefixOf } from '@claimchain/config';
import { AnchorSink } from './anchor-sink';
import { DirectoryAnchorSink } from './directory.anchor-sink';

// TODO(config owner): move LEDGER_ANCHOR_DIR into libs/config's Env once it is settled; read here until then.
const AnchorEnv = z.object({
  LEDGER_ANCHOR_DIR: z.string().min(1).optional(),
});

/** The anchor sinks this deployment publishes to; none when LEDGER_ANCHOR_DIR is unset. */
export function anchorSinksFromEnv(env: NodeJS.ProcessEnv = process.env): AnchorSink[] {
  const prefix = `${envPrefixOf('ledger-anchoring')}_`;
  const parsed = AnchorEnv.safeParse({ LEDGER_ANCHOR_DIR: env[`${prefix}LEDGER_ANCHOR_DIR`] ?? env.LEDGER_ANCHOR_DIR });
  if (!parsed.success) {
    throw new Error(`Invalid configuration for ledger-anchoring: LEDGER_ANCHOR_DIR: ${parsed.error.issues[0].message}`);
  }
  const sinks: AnchorSink[] = [];
  if (parsed.data.LEDGER_ANCHOR_DIR) sinks.push(new DirectoryAnchorSink(parsed.data.LEDGER_ANCHOR_DIR));
  return sinks;
}
