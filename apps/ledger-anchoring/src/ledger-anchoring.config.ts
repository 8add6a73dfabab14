import { AppSettings, LEDGER_VERIFIER_KEY_VARIABLE, ledgerVerifierKeysOf, loadServiceConfig } from '@claimchain/config';
import { z } from 'zod';

/**
 * ledger-anchoring's own settings (the shared ones are libs/config's): the log's origin and keys, leaf salting,
 * checkpoint cadence and the directory anchor sink.
 */
const variables = {
  LEDGER_ORIGIN: z.string().min(1).default('claimchain.local/ledger'),
  LEDGER_SIGNING_KEY_FILE: z.string().optional(),
  /** The secret the ledger derives each leaf's datahash salt from (ADR 16); a dev-only key when unset, outside production. */
  LEDGER_SALT_KEY_FILE: z.string().min(1).optional(),
  /** Leaves from this index on are salted (v2); 0 for a new log, the tree size at the upgrade for an existing one. */
  LEDGER_SALTED_FROM_INDEX: z.coerce.number().int().nonnegative().default(0),
  LEDGER_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().positive().default(200),
  LEDGER_CHECKPOINT_MAX_ENTRIES: z.coerce.number().int().positive().default(1000),
  LEDGER_ANCHOR_DIR: z.string().min(1).optional(),
  ...LEDGER_VERIFIER_KEY_VARIABLE,
};

export interface LedgerAnchoringSettings {
  ledger: {
    origin: string;
    signingKeyFile?: string;
    /** Where the leaf salt key is; unset: the dev-only key, refused with NODE_ENV=production by the ledger. */
    saltKeyFile?: string;
    /** The first leaf index that is salted (v2): a replay rebuilds the leaves before it unsalted, as they were. */
    saltedFromIndex: number;
    /** NODE_ENV=production: the ledger refuses to start without LEDGER_SALT_KEY_FILE. */
    saltKeyRequired: boolean;
    /** The ledger's current note verifier key (the first listed). */
    verifierKey?: string;
    /**
     * Every key whose checkpoint signatures are accepted: the current one and, while a rotation is under way (or for
     * the audit of older checkpoints), the ones before it.
     */
    verifierKeys: string[];
    /** Where the directory anchor sink writes `<treeSize>.checkpoint` files; no directory sink when unset. */
    anchorDir?: string;
    checkpointIntervalMs: number;
    checkpointMaxEntries: number;
  };
}

export const LEDGER_ANCHORING_SETTINGS: AppSettings<typeof variables, LedgerAnchoringSettings> = {
  variables,
  build: (e, env) => ({
    ledger: {
      origin: e.LEDGER_ORIGIN,
      signingKeyFile: e.LEDGER_SIGNING_KEY_FILE,
      saltKeyFile: e.LEDGER_SALT_KEY_FILE,
      saltedFromIndex: e.LEDGER_SALTED_FROM_INDEX,
      saltKeyRequired: env.NODE_ENV === 'production',
      ...ledgerVerifierKeysOf(e.LEDGER_VERIFIER_KEY),
      anchorDir: e.LEDGER_ANCHOR_DIR,
      checkpointIntervalMs: e.LEDGER_CHECKPOINT_INTERVAL_MS,
      checkpointMaxEntries: e.LEDGER_CHECKPOINT_MAX_ENTRIES,
    },
  }),
};

export type LedgerAnchoringConfig = ReturnType<typeof loadLedgerAnchoringConfig>;

/** ledger-anchoring's whole configuration: the shared settings and its own, validated together. */
export function loadLedgerAnchoringConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadServiceConfig('ledger-anchoring', env, LEDGER_ANCHORING_SETTINGS);
}
