import { Registry } from 'prom-client';
import { parsePrometheusText, sampleSum } from '@claimchain/testing';
import { EventMetrics } from './messaging.metrics';

describe(EventMetrics.name, () => {
  it('counts outcomes per topic, several at once, and nothing for a count of zero', async () => {
    const registry = new Registry();
    const metrics = new EventMetrics(registry);
    metrics.count('claims.submitted.v1', 'handled', 3);
    metrics.count('claims.submitted.v1', 'handled');
    metrics.count('claims.submitted.v1', 'dead_lettered');
    metrics.count('ledger.anchored.v1', 'duplicate', 2);
    metrics.count('ledger.anchored.v1', 'ignored', 0);
    const samples = parsePrometheusText(await registry.metrics());
    const consumed = (topic: string, outcome: string) =>
      sampleSum(samples, 'claimchain_events_consumed_total', { topic, outcome });
    expect(consumed('claims.submitted.v1', 'handled')).toBe(4);
    expect(consumed('claims.submitted.v1', 'dead_lettered')).toBe(1);
    expect(consumed('claims.submitted.v1', 'retried')).toBe(0);
    expect(consumed('ledger.anchored.v1', 'duplicate')).toBe(2);
    expect(consumed('ledger.anchored.v1', 'ignored')).toBe(0);
  });
});
