import { parsePrometheusText, sampleSum } from './prometheus-text';

describe(parsePrometheusText.name, () => {
  const text = [
    '# HELP claimchain_events_consumed_total Events consumed',
    '# TYPE claimchain_events_consumed_total counter',
    'claimchain_events_consumed_total{topic="claims.submitted.v1",outcome="handled",service="payout"} 3',
    'claimchain_events_consumed_total{topic="claims.submitted.v1",outcome="duplicate",service="payout"} 2',
    'claimchain_events_consumed_total{topic="ledger.anchored.v2",outcome="handled",service="payout"} 5',
    'claimchain_ledger_leaves{service="ledger-anchoring"} 42',
    'odd{reason="a \\"quoted\\" \\\\ value"} 1.5e-3',
    'up 1 1700000000000',
    '',
  ].join('\n');

  it('reads names, labels and values, unescaping label values and ignoring timestamps', () => {
    const samples = parsePrometheusText(text);
    expect(samples).toHaveLength(6);
    expect(samples[0]).toEqual({
      name: 'claimchain_events_consumed_total',
      labels: { topic: 'claims.submitted.v1', outcome: 'handled', service: 'payout' },
      value: 3,
    });
    expect(samples[4]).toEqual({ name: 'odd', labels: { reason: 'a "quoted" \\ value' }, value: 0.0015 });
    expect(samples[5]).toEqual({ name: 'up', labels: {}, value: 1 });
  });

  it('sums the samples that carry the given labels', () => {
    const samples = parsePrometheusText(text);
    expect(sampleSum(samples, 'claimchain_events_consumed_total', { outcome: 'handled' })).toBe(8);
    expect(sampleSum(samples, 'claimchain_events_consumed_total', { topic: 'claims.submitted.v1' })).toBe(5);
    expect(sampleSum(samples, 'claimchain_ledger_leaves')).toBe(42);
    expect(sampleSum(samples, 'claimchain_missing_total')).toBe(0);
  });

  it('refuses a line that is not a sample', () => {
    expect(() => parsePrometheusText('this is not a sample')).toThrow(/not a Prometheus sample/);
  });
});
