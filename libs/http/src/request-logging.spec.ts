import { Controller, Get, Logger, Module, Param } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { installTracing } from '@claimchain/observability';
import { createHttpApp } from './http-app.factory';

@Controller()
class ClaimsProbeController {
  private readonly log = new Logger('ClaimsProbe');

  @Get('v1/claims/:id')
  read(@Param('id') id: string): { id: string } {
    this.log.log('reading the claim');
    return { id };
  }

  @Get('health/live')
  live(): { status: string } {
    return { status: 'ok' };
  }
}

@Module({ controllers: [ClaimsProbeController] })
class ProbeModule {}

/** What ops read in the logs of one request: its ids on every line written while handling it, and one access line. */
describe('request logging', () => {
  let app: NestFastifyApplication;
  let base: string;
  let lines: Record<string, unknown>[];
  const format = process.env.LOG_FORMAT;

  beforeAll(async () => {
    process.env.LOG_FORMAT = 'json';
    app = await createHttpApp({ module: ProbeModule }, { logLevel: 'log', service: 'probe' });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });

  afterAll(async () => {
    await app?.close();
    process.env.LOG_FORMAT = format;
  });

  beforeEach(() => {
    lines = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      return true;
    });
  });

  afterEach(() => jest.restoreAllMocks());

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });
  /** The access line is written once the response has finished, which can be just after fetch resolves. */
  const accessLine = async () => {
    for (let i = 0; i < 100 && !lines.some((l) => l.context === 'HttpAccess'); i++) await new Promise(setImmediate);
    return lines.find((l) => l.context === 'HttpAccess');
  };

  it("puts the caller's request id, the claim id and the trace id on the handler's lines and the access line", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await get('/v1/claims/c-123', {
      'x-request-id': 'req-abc.1',
      traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-abc.1');

    const handler = lines.find((l) => l.context === 'ClaimsProbe');
    expect(handler).toMatchObject({ message: 'reading the claim', requestId: 'req-abc.1', claimId: 'c-123', traceId });
    expect(await accessLine()).toMatchObject({
      level: 'log',
      service: 'probe',
      requestId: 'req-abc.1',
      claimId: 'c-123',
      traceId,
      method: 'GET',
      route: '/v1/claims/:id',
      status: 200,
      durationMs: expect.any(Number),
    });
  });

  it('gives a request without a usable id a new one, and says so in its answer', async () => {
    const res = await get('/v1/claims/c-9', { 'x-request-id': 'not a token; ' + 'x'.repeat(200) });
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await accessLine()).toMatchObject({ requestId: id, status: 200 });
  });

  it('writes no access line for probes', async () => {
    expect((await get('/health/live')).status).toBe(200);
    await get('/v1/claims/after-the-probe');
    await accessLine();
    expect(lines.filter((l) => l.context === 'HttpAccess').map((l) => l.route)).toEqual(['/v1/claims/:id']);
  });
});

/** With tracing on (ADR 20): a server span per request, continuing the caller's trace, its id on every log line. */
describe('request tracing', () => {
  const exporter = new InMemorySpanExporter();
  let uninstall: () => Promise<void>;
  let app: NestFastifyApplication;
  let base: string;
  let lines: Record<string, unknown>[];
  const format = process.env.LOG_FORMAT;

  beforeAll(async () => {
    process.env.LOG_FORMAT = 'json';
    uninstall = installTracing([new SimpleSpanProcessor(exporter)], 'probe');
    app = await createHttpApp({ module: ProbeModule }, { logLevel: 'log', service: 'probe' });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });

  afterAll(async () => {
    await app?.close();
    await uninstall?.();
    process.env.LOG_FORMAT = format;
  });

  beforeEach(() => {
    lines = [];
    exporter.reset();
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      return true;
    });
  });

  afterEach(() => jest.restoreAllMocks());

  /** The span ends and the access line is written once the response has finished, just after fetch resolves. */
  const finished = async () => {
    for (let i = 0; i < 100 && !lines.some((l) => l.context === 'HttpAccess'); i++) await new Promise(setImmediate);
    return { access: lines.find((l) => l.context === 'HttpAccess'), spans: exporter.getFinishedSpans() };
  };

  it("continues the caller's sampled trace in a server span named by route, whose trace id every line carries", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await fetch(`${base}/v1/claims/c-1?x=1`, {
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(res.status).toBe(200);
    const { access, spans } = await finished();
    expect(spans).toHaveLength(1);
    const [span] = spans;
    expect(span).toMatchObject({
      name: 'GET /v1/claims/:id',
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': 'GET',
        'http.route': '/v1/claims/:id',
        'url.path': '/v1/claims/c-1',
        'http.response.status_code': 200,
      },
    });
    expect(span.spanContext().traceId).toBe(traceId);
    expect(span.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(lines.find((l) => l.context === 'ClaimsProbe')).toMatchObject({ claimId: 'c-1', traceId });
    expect(access).toMatchObject({ claimId: 'c-1', traceId, status: 200 });
  });

  it('starts a trace for a request without one, records nothing for one its caller sampled out, and skips probes', async () => {
    await fetch(`${base}/v1/claims/c-2`);
    const fresh = await finished();
    expect(fresh.spans).toHaveLength(1);
    expect(fresh.access?.traceId).toBe(fresh.spans[0].spanContext().traceId);

    lines = [];
    exporter.reset();
    await fetch(`${base}/v1/claims/c-3`, {
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00' },
    });
    const sampledOut = await finished();
    expect(sampledOut.spans).toEqual([]);
    expect(sampledOut.access?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736'); // still correlatable in the logs

    exporter.reset();
    await fetch(`${base}/health/live`);
    await new Promise(setImmediate);
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});
