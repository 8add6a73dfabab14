import { AppSettings, LEDGER_VERIFIER_KEY_VARIABLE, ledgerVerifierKeysOf, loadServiceConfig } from '@claimchain/config';
import { z } from 'zod';

/**
 * claim-intake's own settings (the shared ones are libs/config's): its submission queue's bound, the key that
 * pseudonymises patients, and the ledger verifier key it prints into receipts.
 */
const DEV_PSEUDONYM_KEY = 'dev-only-pseudonym-key-change-me';

const variables = {
  CLAIM_QUEUE_MAX: z.coerce.number().int().positive().default(1024),
  PSEUDONYM_KEY: z.string().min(16).default(DEV_PSEUDONYM_KEY),
  ...LEDGER_VERIFIER_KEY_VARIABLE,
};

export interface ClaimIntakeSettings {
  /** Submissions waiting for a group-commit batch at most; more are refused with a 503. */
  claimQueueMax: number;
  pseudonymKey: string;
  /** The ledger's current note verifier key (the first LEDGER_VERIFIER_KEY listed), printed into claim receipts. */
  ledger: { verifierKey?: string };
}

export const CLAIM_INTAKE_SETTINGS: AppSettings<typeof variables, ClaimIntakeSettings> = {
  variables,
  build: (e) => ({
    claimQueueMax: e.CLAIM_QUEUE_MAX,
    pseudonymKey: e.PSEUDONYM_KEY,
    ledger: { verifierKey: ledgerVerifierKeysOf(e.LEDGER_VERIFIER_KEY).verifierKey },
  }),
  refuseInProduction: (e) =>
    e.PSEUDONYM_KEY === DEV_PSEUDONYM_KEY ? ['PSEUDONYM_KEY is the published dev-only key'] : [],
};

export type ClaimIntakeConfig = ReturnType<typeof loadClaimIntakeConfig>;

/** claim-intake's whole configuration: the shared settings and its own, validated together. */
export function loadClaimIntakeConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadServiceConfig('claim-intake', env, CLAIM_INTAKE_SETTINGS);
}
