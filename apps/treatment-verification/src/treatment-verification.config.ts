import { AppSettings, HOUR_MS, loadServiceConfig } from '@claimchain/config';
import { z } from 'zod';

/**
 * treatment-verification's own settings (the shared ones are libs/config's): how many confirmations may wait for
 * their claim and how long, and whether confirmations must be signed by default.
 */
const variables = {
  PENDING_CONFIRMATIONS_MAX_PER_PROVIDER: z.coerce.number().int().positive().default(10_000),
  PENDING_CONFIRMATION_TTL_HOURS: z.coerce.number().positive().default(720),
  /** Unset: required with NODE_ENV=production, optional otherwise. */
  CONFIRMATION_SIGNATURES_REQUIRED: z.enum(['true', 'false']).optional(),
};

export interface TreatmentVerificationSettings {
  /** Confirmations that arrived before their claim. */
  pendingConfirmations: { maxPerProvider: number; ttlMs: number };
  /** Whether a confirmation must be signed for an insurer that set no policy of its own. */
  signedConfirmationsRequiredByDefault: boolean;
}

export const TREATMENT_VERIFICATION_SETTINGS: AppSettings<typeof variables, TreatmentVerificationSettings> = {
  variables,
  build: (e, env) => ({
    pendingConfirmations: {
      maxPerProvider: e.PENDING_CONFIRMATIONS_MAX_PER_PROVIDER,
      ttlMs: e.PENDING_CONFIRMATION_TTL_HOURS * HOUR_MS,
    },
    signedConfirmationsRequiredByDefault:
      (e.CONFIRMATION_SIGNATURES_REQUIRED ?? String(env.NODE_ENV === 'production')) === 'true',
  }),
};

export type TreatmentVerificationConfig = ReturnType<typeof loadTreatmentVerificationConfig>;

/** treatment-verification's whole configuration: the shared settings and its own, validated together. */
export function loadTreatmentVerificationConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadServiceConfig('treatment-verification', env, TREATMENT_VERIFICATION_SETTINGS);
}
