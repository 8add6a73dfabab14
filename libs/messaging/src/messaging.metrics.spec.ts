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
    metrics.count('ledger.anchored.v2', 'duplicate', 2);
    metrics.count('ledger.anchored.v2', 'ignored', 0);
    const samples = parsePrometheusText(await registry.metrics());
    const consumed = (topic: string, outcome: string) =>
      sampleSum(samples, 'claimchain_events_consumed_total', { topic, outcome });
    expect(consumed('claims.submitted.v1', 'handled')).toBe(4);
    expect(consumed('claims.submitted.v1', 'dead_lettered')).toBe(1);
    expect(consumed('claims.submitted.v1', 'retried')).toBe(0);
    expect(consumed('ledger.anchored.v2', 'duplicate')).toBe(2);
    expect(consumed('ledger.anchored.v2', 'ignored')).toBe(0);
  });

  it('counts dead letters by reason (schema, signature, handler) and the other outcomes without one', async () => {
    const registry = new Registry();
    const metrics = new EventMetrics(registry);
    metrics.count('claims.submitted.v1', 'dead_lettered', 2, 'signature');
    metrics.count('claims.submitted.v1', 'dead_lettered', 1, 'schema');
    metrics.count('claims.submitted.v1', 'handled');
    const samples = parsePrometheusText(await registry.metrics());
    const sum = (labels: Record<string, string>) => sampleSum(samples, 'claimchain_events_consumed_total', labels);
    expect(sum({ outcome: 'dead_lettered', reason: 'signature' })).toBe(2);
    expect(sum({ outcome: 'dead_lettered', reason: 'schema' })).toBe(1);
    expect(sum({ outcome: 'dead_lettered', reason: 'handler' })).toBe(0);
    expect(sum({ outcome: 'dead_lettered' })).toBe(3);
    expect(samples.filter((s) => s.labels.outcome === 'handled').map((s) => s.labels.reason)).toEqual([undefined]);
  });
});
