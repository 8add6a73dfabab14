import { z } from 'zod';
import { AppSettings, loadServiceConfig } from './env';

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

  it('fails with the variable name when a value is invalid', () => {
    expect(() => loadServiceConfig('payout', { PORT: 'eighty' })).toThrow(/PORT/);
  });

  describe('with NODE_ENV=production', () => {
    const production = {
      NODE_ENV: 'production',
      AUTH_JWKS_URL: 'https://auth.example.com/.well-known/jwks.json',
      EVENT_SIGNING_KEY_FILE: '/var/run/secrets/claimchain-events/signing.key',
      EVENT_VERIFIER_KEYS: 'payout+0a1b2c3d+AV0nPv1R5yXyrmpW6B4ygbZxIbpRdqpsBhbD36eRIKUt',
    };

    it('starts with real settings', () => {
      expect(loadServiceConfig('payout', production).auth.jwksUrl).toBe(production.AUTH_JWKS_URL);
    });

    it.each([
      ['AUTH_JWKS_URL', 'treatment-verification', { AUTH_JWKS_URL: undefined }],
      ['EVENT_SIGNING_KEY_FILE', 'claim-intake', { EVENT_SIGNING_KEY_FILE: undefined }],
      ['EVENT_VERIFIER_KEYS', 'ledger-anchoring', { EVENT_VERIFIER_KEYS: undefined }],
    ] as const)('refuses to start without %s (%s), naming it', (name, service, change) => {
      expect(() => loadServiceConfig(service, { ...production, ...change })).toThrow(
        new RegExp(`Refusing to start ${service} with NODE_ENV=production: .*${name}`),
      );
    });

    it('leaves development alone: the dev defaults still start a service without NODE_ENV', () => {
      expect(() => loadServiceConfig('payout', {})).not.toThrow();
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

  describe("with an app's own settings", () => {
    const variables = {
      WIDGETS: z.coerce.number().int().positive().default(3),
      WIDGET_KEY: z.string().default('dev'),
    };
    const app: AppSettings<typeof variables, { widgets: number }> = {
      variables,
      build: (e) => ({ widgets: e.WIDGETS }),
      refuseInProduction: (e) => (e.WIDGET_KEY === 'dev' ? ['WIDGET_KEY is the dev-only key'] : []),
    };

    it('reads them prefixed or not, beside the shared ones', () => {
      expect(loadServiceConfig('payout', { PAYOUT_WIDGETS: '7', WIDGETS: '5' }, app)).toMatchObject({
        widgets: 7,
        port: 3004,
      });
    });

    it("names every invalid variable, shared or the app's, in one error", () => {
      expect(() => loadServiceConfig('payout', { PORT: 'eighty', WIDGETS: '-1' }, app)).toThrow(
        /^Invalid configuration for payout: PORT: .*; WIDGETS: /,
      );
    });

    it("refuses the app's dev-only settings in production first, then the shared ones", () => {
      expect(() => loadServiceConfig('payout', { NODE_ENV: 'production' }, app)).toThrow(
        /Refusing to start payout with NODE_ENV=production: WIDGET_KEY is the dev-only key; EVENT_SIGNING_KEY_FILE/,
      );
    });
  });
});
