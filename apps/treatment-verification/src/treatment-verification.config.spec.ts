import { loadTreatmentVerificationConfig } from './treatment-verification.config';

describe(loadTreatmentVerificationConfig.name, () => {
  it('lets a confirmation wait 30 days for its claim by default (issue 15.5)', () => {
    expect(loadTreatmentVerificationConfig({}).pendingConfirmations.ttlMs).toBe(30 * 24 * 3_600_000);
  });

  it('requires signed confirmations in production unless CONFIRMATION_SIGNATURES_REQUIRED says otherwise; development does not', () => {
    const production = {
      NODE_ENV: 'production',
      AUTH_JWKS_URL: 'https://auth.example.com/.well-known/jwks.json',
      EVENT_SIGNING_KEY_FILE: '/var/run/secrets/claimchain-events/signing.key',
      EVENT_VERIFIER_KEYS: 'payout+0a1b2c3d+AV0nPv1R5yXyrmpW6B4ygbZxIbpRdqpsBhbD36eRIKUt',
    };
    const required = (env: Record<string, string>) =>
      loadTreatmentVerificationConfig(env).signedConfirmationsRequiredByDefault;
    expect(required(production)).toBe(true);
    expect(required({ ...production, CONFIRMATION_SIGNATURES_REQUIRED: 'false' })).toBe(false);
    expect(required({})).toBe(false);
    expect(required({ CONFIRMATION_SIGNATURES_REQUIRED: 'true' })).toBe(true);
  });
});
