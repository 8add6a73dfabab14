import { Registry } from 'prom-client';
import { parsePrometheusText, sampleSum } from '@claimchain/testing';
import { HttpMetrics, statusClassOf, UNMATCHED_ROUTE } from './http.metrics';

describe(HttpMetrics.name, () => {
  async function scrape(registry: Registry) {
    return parsePrometheusText(await registry.metrics());
  }

  it('counts requests by route pattern, method and status class, and times them by route', async () => {
    const registry = new Registry();
    const metrics = new HttpMetrics(registry);
    metrics.observe('GET', '/v1/claims/:id', 200, 0.004);
    metrics.observe('GET', '/v1/claims/:id', 200, 0.3);
    metrics.observe('GET', '/v1/claims/:id', 404, 0.002);
    metrics.observe('POST', '/v1/claims', 202, 0.02);
    const samples = await scrape(registry);
    const requests = (labels: Record<string, string>) => sampleSum(samples, 'claimchain_http_requests_total', labels);
    expect(requests({ method: 'GET', route: '/v1/claims/:id', status_class: '2xx' })).toBe(2);
    expect(requests({ method: 'GET', route: '/v1/claims/:id', status_class: '4xx' })).toBe(1);
    expect(requests({ method: 'POST', route: '/v1/claims', status_class: '2xx' })).toBe(1);
    const latency = { method: 'GET', route: '/v1/claims/:id' };
    expect(sampleSum(samples, 'claimchain_http_request_duration_seconds_count', latency)).toBe(3);
    expect(sampleSum(samples, 'claimchain_http_request_duration_seconds_sum', latency)).toBeCloseTo(0.306);
    expect(sampleSum(samples, 'claimchain_http_request_duration_seconds_bucket', { ...latency, le: '0.005' })).toBe(2);
  });

  it('labels every request no route matched alike, so a URL never becomes a label value', async () => {
    const registry = new Registry();
    const metrics = new HttpMetrics(registry);
    metrics.observe('GET', undefined, 404, 0.001);
    metrics.observe('GET', undefined, 404, 0.001);
    const samples = await scrape(registry);
    const routes = samples.filter((s) => s.name === 'claimchain_http_requests_total').map((s) => s.labels.route);
    expect(routes).toEqual([UNMATCHED_ROUTE]);
    expect(sampleSum(samples, 'claimchain_http_requests_total')).toBe(2);
  });
});

describe(statusClassOf.name, () => {
  it('maps a status code to its class, and anything outside 100-599 to other', () => {
    expect([101, 200, 204, 302, 404, 499, 500, 503, 99, 600].map(statusClassOf)).toEqual([
      '1xx',
      '2xx',
      '2xx',
      '3xx',
      '4xx',
      '4xx',
      '5xx',
      '5xx',
      'other',
      'other',
    ]);
  });
});
