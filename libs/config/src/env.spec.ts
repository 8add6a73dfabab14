import { loadServiceConfig } from './env';

describe(loadServiceConfig.name, () => {
  it('gives each service its default port and its own database on the configured server', () => {
    const config = loadServiceConfig('ledger-anchoring', { DATABASE_URL: 'postgres://u@db:5432/postgres' });
    expect(config.port).toBe(3003);
    expect(config.databaseUrl).toBe('postgres://u@db:5432/claimchain_ledger_anchoring');
    expect(config.kafkaGroupId).toBe('claimchain.ledger-anchoring');
  });

  it('lets a service-prefixed variable override the shared one', () => {
    const config = loadServiceConfig('payout', { PORT: '4000', PAYOUT_PORT: '4100', KAFKA_BROKERS: 'a:1, b:2' });
    expect(config.port).toBe(4100);
    expect(config.kafkaBrokers).toEqual(['a:1', 'b:2']);
  });

  it('bounds resources by default: pool timeouts on, retention in hours read as milliseconds', () => {
    const config = loadServiceConfig('payout', { INBOX_RETENTION_HOURS: '0.5' });
    expect(config.postgres).toEqual({
      poolMax: 20,
      connectTimeoutMs: 10_000,
      statementTimeoutMs: 30_000,
      idleInTransactionTimeoutMs: 60_000,
    });
    expect(config.retention).toMatchObject({ outboxMs: 72 * 3_600_000, inboxMs: 1_800_000 });
  });

  it('lets a confirmation wait 30 days for its claim by default (issue 15.5)', () => {
    expect(loadServiceConfig('treatment-verification', {}).pendingConfirmations.ttlMs).toBe(30 * 24 * 3_600_000);
  });

  it('fails with the variable name when a value is invalid', () => {
    expect(() => loadServiceConfig('payout', { PORT: 'eighty' })).toThrow(/PORT/);
  });

  describe('with NODE_ENV=production', () => {
    const production = {
      NODE_ENV: 'production',
      PSEUDONYM_KEY: 'a-real-pseudonym-key-from-a-secret-store',
      WEBHOOK_SECRET_KEY: 'a-real-webhook-secret-key-from-a-secret-store',
      LEDGER_VERIFIER_KEY: 'claimchain.example/ledger+0a1b2c3d+AV0nPv1R5yXyrmpW6B4ygbZxIbpRdqpsBhbD36eRIKUt',
      AUTH_JWKS_URL: 'https://auth.example.com/.well-known/jwks.json',
      LEDGER_URL: 'https://ledger.example.com',
      EVENT_SIGNING_KEY_FILE: '/var/run/secrets/claimchain-events/signing.key',
      EVENT_VERIFIER_KEYS: 'payout+0a1b2c3d+AV0nPv1R5yXyrmpW6B4ygbZxIbpRdqpsBhbD36eRIKUt',
    };

    it('starts with real settings', () => {
      expect(loadServiceConfig('payout', production).pseudonymKey).toBe(production.PSEUDONYM_KEY);
    });

    it.each([
      ['PSEUDONYM_KEY', 'claim-intake', { PSEUDONYM_KEY: undefined }],
      ['WEBHOOK_SECRET_KEY', 'payout', { WEBHOOK_SECRET_KEY: undefined }],
      ['LEDGER_VERIFIER_KEY', 'payout', { LEDGER_VERIFIER_KEY: undefined }],
      ['AUTH_JWKS_URL', 'treatment-verification', { AUTH_JWKS_URL: undefined }],
      ['SIMULATED_BANK', 'payout', { SIMULATED_BANK: 'true' }],
      ['DEMO_CONTRACT', 'payout', { PAYOUT_DEMO_CONTRACT: 'true' }],
      ['LEDGER_URL', 'payout', { LEDGER_URL: 'http://ledger.example.com' }],
      ['LEDGER_URL', 'payout', { LEDGER_URL: undefined }],
      ['EVENT_SIGNING_KEY_FILE', 'claim-intake', { EVENT_SIGNING_KEY_FILE: undefined }],
      ['EVENT_VERIFIER_KEYS', 'ledger-anchoring', { EVENT_VERIFIER_KEYS: undefined }],
    ] as const)('refuses to start without %s (%s), naming it', (name, service, change) => {
      expect(() => loadServiceConfig(service, { ...production, ...change })).toThrow(
        new RegExp(`Refusing to start ${service} with NODE_ENV=production: .*${name}`),
      );
    });

    it('refuses webhooks to loopback unless WEBHOOK_ALLOW_LOOPBACK says otherwise; development allows them', () => {
      expect(loadServiceConfig('payout', production).payments.webhookAllowLoopback).toBe(false);
      const allowed = { ...production, WEBHOOK_ALLOW_LOOPBACK: 'true' };
      expect(loadServiceConfig('payout', allowed).payments.webhookAllowLoopback).toBe(true);
      expect(loadServiceConfig('payout', {}).payments.webhookAllowLoopback).toBe(true);
      expect(loadServiceConfig('payout', { WEBHOOK_ALLOW_LOOPBACK: 'false' }).payments.webhookAllowLoopback).toBe(
        false,
      );
    });

    it('requires signed confirmations unless CONFIRMATION_SIGNATURES_REQUIRED says otherwise; development does not', () => {
      const tv = (env: Record<string, string>) =>
        loadServiceConfig('treatment-verification', env).signedConfirmationsRequiredByDefault;
      expect(tv(production)).toBe(true);
      expect(tv({ ...production, CONFIRMATION_SIGNATURES_REQUIRED: 'false' })).toBe(false);
      expect(tv({})).toBe(false);
      expect(tv({ CONFIRMATION_SIGNATURES_REQUIRED: 'true' })).toBe(true);
    });

    it('leaves development alone: the dev defaults still start a service without NODE_ENV', () => {
      expect(() => loadServiceConfig('payout', {})).not.toThrow();
    });

    it('takes a plain-http LEDGER_URL only when LEDGER_URL_ALLOW_HTTP says the network is authenticated', () => {
      const mesh = { ...production, LEDGER_URL: 'http://ledger-anchoring:3003', LEDGER_URL_ALLOW_HTTP: 'true' };
      expect(loadServiceConfig('payout', mesh).ledger.url).toBe('http://ledger-anchoring:3003');
    });

    it('pays through no simulated bank and publishes no demo contract unless development asks for them', () => {
      expect(loadServiceConfig('payout', {})).toMatchObject({
        payments: { simulatedBank: false },
        demoContract: false,
      });
      const dev = { PAYOUT_SIMULATED_BANK: 'true', PAYOUT_DEMO_CONTRACT: 'true' };
      expect(loadServiceConfig('payout', dev)).toMatchObject({ payments: { simulatedBank: true }, demoContract: true });
    });
  });

  it('trusts no proxy by default; TRUST_PROXY names them by hops or addresses', () => {
    expect(loadServiceConfig('claim-intake', {}).trustProxy).toBe(false);
    expect(loadServiceConfig('claim-intake', { TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadServiceConfig('claim-intake', { TRUST_PROXY: '10.0.0.0/8,fd00::/8' }).trustProxy).toEqual([
      '10.0.0.0/8',
      'fd00::/8',
    ]);
    expect(() => loadServiceConfig('claim-intake', { TRUST_PROXY: 'yes please' })).toThrow(/TRUST_PROXY/);
  });

  describe('Kafka security', () => {
    it('is plaintext unless configured', () => {
      expect(loadServiceConfig('payout', {}).kafkaSecurity).toEqual({});
    });

    it('turns on TLS (with an extra CA) and SASL from KAFKA_SSL* and KAFKA_SASL_*', () => {
      const config = loadServiceConfig('payout', {
        KAFKA_SSL: 'true',
        KAFKA_SSL_CA_FILE: '/etc/kafka/ca.pem',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'claimchain',
        KAFKA_SASL_PASSWORD: 's3cret',
      });
      expect(config.kafkaSecurity).toEqual({
        ssl: { caFile: '/etc/kafka/ca.pem' },
        sasl: { mechanism: 'scram-sha-512', username: 'claimchain', password: 's3cret' },
      });
    });

    it('refuses a SASL mechanism without its credentials, naming them', () => {
      expect(() => loadServiceConfig('payout', { KAFKA_SASL_MECHANISM: 'plain' })).toThrow(
        /KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/,
      );
    });
  });

  it('takes several ledger verifier keys, the current one first, for a key rotation', () => {
    const current = 'claimchain.example/ledger+0a1b2c3d+AV0nPv1R5yXyrmpW6B4ygbZxIbpRdqpsBhbD36eRIKUt';
    const earlier = 'claimchain.example/ledger+9f8e7d6c+AWm1lqPuT/8VbVD8Tfhj6WGLt4Y4XbNh7f0h0/KjS5rA';
    const config = loadServiceConfig('payout', { LEDGER_VERIFIER_KEY: `${current},${earlier}` });
    expect(config.ledger.verifierKey).toBe(current);
    expect(config.ledger.verifierKeys).toEqual([current, earlier]);
    expect(() => loadServiceConfig('payout', { LEDGER_VERIFIER_KEY: `${current},` })).toThrow(/LEDGER_VERIFIER_KEY/);
  });
});
