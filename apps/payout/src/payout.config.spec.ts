import { loadPayoutConfig } from './payout.config';

describe(loadPayoutConfig.name, () => {
  const production = {
    NODE_ENV: 'production',
    WEBHOOK_SECRET_KEY: 'a-real-webhook-secret-key-from-a-secret-store',
    LEDGER_VERIFIER_KEY: 'claimchain.example/ledger+0a1b2c3d+AV0nPv1R5yXyrmpW6B4ygbZxIbpRdqpsBhbD36eRIKUt',
    AUTH_JWKS_URL: 'https://auth.example.com/.well-known/jwks.json',
    LEDGER_URL: 'https://ledger.example.com',
    EVENT_SIGNING_KEY_FILE: '/var/run/secrets/claimchain-events/signing.key',
    EVENT_VERIFIER_KEYS: 'payout+0a1b2c3d+AV0nPv1R5yXyrmpW6B4ygbZxIbpRdqpsBhbD36eRIKUt',
  };

  it('starts with real settings in production', () => {
    expect(loadPayoutConfig(production).payments.webhookSecretKey).toBe(production.WEBHOOK_SECRET_KEY);
  });

  it.each([
    ['WEBHOOK_SECRET_KEY', { WEBHOOK_SECRET_KEY: undefined }],
    ['LEDGER_VERIFIER_KEY', { LEDGER_VERIFIER_KEY: undefined }],
    ['SIMULATED_BANK', { SIMULATED_BANK: 'true' }],
    ['DEMO_CONTRACT', { PAYOUT_DEMO_CONTRACT: 'true' }],
    ['LEDGER_URL', { LEDGER_URL: 'http://ledger.example.com' }],
    ['LEDGER_URL', { LEDGER_URL: undefined }],
  ] as const)('refuses to start in production without %s, naming it', (name, change) => {
    expect(() => loadPayoutConfig({ ...production, ...change })).toThrow(
      new RegExp(`Refusing to start payout with NODE_ENV=production: .*${name}`),
    );
  });

  it('refuses webhooks to loopback in production unless WEBHOOK_ALLOW_LOOPBACK says otherwise; development allows them', () => {
    expect(loadPayoutConfig(production).payments.webhookAllowLoopback).toBe(false);
    const allowed = { ...production, WEBHOOK_ALLOW_LOOPBACK: 'true' };
    expect(loadPayoutConfig(allowed).payments.webhookAllowLoopback).toBe(true);
    expect(loadPayoutConfig({}).payments.webhookAllowLoopback).toBe(true);
    expect(loadPayoutConfig({ WEBHOOK_ALLOW_LOOPBACK: 'false' }).payments.webhookAllowLoopback).toBe(false);
  });

  it('takes a plain-http LEDGER_URL in production only when LEDGER_URL_ALLOW_HTTP says the network is authenticated', () => {
    const mesh = { ...production, LEDGER_URL: 'http://ledger-anchoring:3003', LEDGER_URL_ALLOW_HTTP: 'true' };
    expect(loadPayoutConfig(mesh).ledger.url).toBe('http://ledger-anchoring:3003');
  });

  it('pays through no simulated bank and publishes no demo contract unless development asks for them', () => {
    expect(loadPayoutConfig({})).toMatchObject({ payments: { simulatedBank: false }, demoContract: false });
    const dev = { PAYOUT_SIMULATED_BANK: 'true', PAYOUT_DEMO_CONTRACT: 'true' };
    expect(loadPayoutConfig(dev)).toMatchObject({ payments: { simulatedBank: true }, demoContract: true });
  });

  it('takes several ledger verifier keys, the current one first, for a key rotation', () => {
    const current = 'claimchain.example/ledger+0a1b2c3d+AV0nPv1R5yXyrmpW6B4ygbZxIbpRdqpsBhbD36eRIKUt';
    const earlier = 'claimchain.example/ledger+9f8e7d6c+AWm1lqPuT/8VbVD8Tfhj6WGLt4Y4XbNh7f0h0/KjS5rA';
    const config = loadPayoutConfig({ LEDGER_VERIFIER_KEY: `${current},${earlier}` });
    expect(config.ledger.verifierKey).toBe(current);
    expect(config.ledger.verifierKeys).toEqual([current, earlier]);
    expect(() => loadPayoutConfig({ LEDGER_VERIFIER_KEY: `${current},` })).toThrow(/LEDGER_VERIFIER_KEY/);
  });
});
