import { Counter } from 'prom-client';
import { MetricsRegistry } from './metrics.registry';
import { METRICS_PATH, MetricsServer } from './metrics.server';

describe(MetricsServer.name, () => {
  let server: MetricsServer;
  let registry: MetricsRegistry;

  beforeEach(() => {
    registry = new MetricsRegistry('claim-intake');
    server = new MetricsServer(registry);
  });
  afterEach(() => server.onApplicationShutdown());

  it("serves the registry in Prometheus' text format at /metrics, every sample labelled with the service", async () => {
    new Counter({ name: 'claimchain_test_things_total', help: 'things', registers: [registry] }).inc(3);
    const url = await server.listen(0, '127.0.0.1');
    expect(new URL(url).pathname).toBe(METRICS_PATH);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await res.text();
    expect(text).toContain('claimchain_test_things_total{service="claim-intake"} 3');
    // Node's own metrics come with every registry: the event-loop delay among them.
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{service="claim-intake"\} /m);
  });

  it('answers nothing but GET /metrics', async () => {
    const url = new URL(await server.listen(0, '127.0.0.1'));
    expect((await fetch(new URL('/', url))).status).toBe(404);
    expect((await fetch(new URL('/v1/claims', url))).status).toBe(404);
    expect((await fetch(url, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${url.href}?name[]=x`)).status).toBe(200);
  });

  it('stops listening when the app shuts down', async () => {
    const url = await server.listen(0, '127.0.0.1');
    await server.onApplicationShutdown();
    await expect(fetch(url)).rejects.toThrow();
    expect(server.url).toBeUndefined();
  });
});
