import { loadClaimIntakeConfig } from './claim-intake.config';

describe(loadClaimIntakeConfig.name, () => {
  const production = {
    NODE_ENV: 'production',
    PSEUDONYM_KEY: 'a-real-pseudonym-key-from-a-secret-store',
    AUTH_JWKS_URL: 'https://auth.example.com/.well-known/jwks.json',
    EVENT_SIGNING_KEY_FILE: '/var/run/secrets/claimchain-events/signing.key',
    EVENT_VERIFIER_KEYS: 'payout+0a1b2c3d+AV0nPv1R5yXyrmpW6B4ygbZxIbpRdqpsBhbD36eRIKUt',
  };

  it('starts with real settings in production', () => {
    expect(loadClaimIntakeConfig(production).pseudonymKey).toBe(production.PSEUDONYM_KEY);
  });

  it('refuses to start in production on the dev-only PSEUDONYM_KEY, naming it', () => {
    expect(() => loadClaimIntakeConfig({ ...production, PSEUDONYM_KEY: undefined })).toThrow(
      /Refusing to start claim-intake with NODE_ENV=production: .*PSEUDONYM_KEY/,
    );
  });

  it('prints the current ledger verifier key (the first listed) into receipts', () => {
    const current = 'claimchain.example/ledger+0a1b2c3d+AV0nPv1R5yXyrmpW6B4ygbZxIbpRdqpsBhbD36eRIKUt';
    const earlier = 'claimchain.example/ledger+9f8e7d6c+AWm1lqPuT/8VbVD8Tfhj6WGLt4Y4XbNh7f0h0/KjS5rA';
    expect(loadClaimIntakeConfig({ LEDGER_VERIFIER_KEY: `${current},${earlier}` }).ledger.verifierKey).toBe(current);
  });
});
