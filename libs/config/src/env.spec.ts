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

  it('fails with the variable name when a value is invalid', () => {
    expect(() => loadServiceConfig('payout', { PORT: 'eighty' })).toThrow(/PORT/);
  });
});
