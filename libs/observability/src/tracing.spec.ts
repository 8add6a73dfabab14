import { context, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  activeTraceId,
  contextOf,
  installTracing,
  isSampledTraceparent,
  spanContextOf,
  startTracing,
  traceparentOf,
  traceparentOfSpan,
  tracer,
  tracingEnabled,
} from './tracing';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SAMPLED = `00-${TRACE}-00f067aa0ba902b7-01`;
const NOT_SAMPLED = `00-${TRACE}-00f067aa0ba902b7-00`;

/** Tracing (ADR 20): off unless the OTEL_* variables ask, and then sampled as they say. */
describe('tracing', () => {
  it('stays off without OTEL_TRACES_EXPORTER, with none, or with OTEL_SDK_DISABLED, and then does nothing', () => {
    expect(startTracing('svc', {})).toBeUndefined();
    expect(startTracing('svc', { OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
    expect(startTracing('svc', { OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(tracingEnabled()).toBe(false);
    expect(traceparentOf()).toBeUndefined();
    expect(contextOf(SAMPLED)).toBe(ROOT_CONTEXT);
    expect(activeTraceId()).toBeUndefined();
  });

  it('refuses an exporter or OTLP protocol it does not ship', () => {
    expect(() => startTracing('svc', { OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(/OTEL_TRACES_EXPORTER zipkin/);
    expect(() => startTracing('svc', { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(
      /grpc is not supported/,
    );
    expect(tracingEnabled()).toBe(false);
  });

  it('starts the OTLP exporter when asked, and stops it', async () => {
    const stop = startTracing('svc', { OTEL_TRACES_EXPORTER: 'otlp' });
    expect(tracingEnabled()).toBe(true);
    await stop!();
    expect(tracingEnabled()).toBe(false);
  });

  it('reads a traceparent without a propagator: its sampled flag, its span context, and writes one back', () => {
    expect(isSampledTraceparent(SAMPLED)).toBe(true);
    expect(isSampledTraceparent(NOT_SAMPLED)).toBe(false);
    expect(isSampledTraceparent('garbage')).toBe(false);
    expect(spanContextOf(SAMPLED)).toEqual({
      traceId: TRACE,
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      isRemote: true,
    });
    expect(spanContextOf(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`)).toBeUndefined();
    expect(spanContextOf('01-x')).toBeUndefined();
    const span = trace.wrapSpanContext(spanContextOf(NOT_SAMPLED)!);
    expect(traceparentOfSpan(span)).toBe(NOT_SAMPLED);
  });

  describe('with OTEL_TRACES_SAMPLER=parentbased_traceidratio', () => {
    const exporter = new InMemorySpanExporter();
    let uninstall: () => Promise<void>;
    const saved = { sampler: process.env.OTEL_TRACES_SAMPLER, arg: process.env.OTEL_TRACES_SAMPLER_ARG };

    beforeAll(() => {
      process.env.OTEL_TRACES_SAMPLER = 'parentbased_traceidratio';
      process.env.OTEL_TRACES_SAMPLER_ARG = '0';
      uninstall = installTracing([new SimpleSpanProcessor(exporter)], 'svc');
    });

    afterAll(async () => {
      await uninstall();
      for (const [name, value] of [
        ['OTEL_TRACES_SAMPLER', saved.sampler],
        ['OTEL_TRACES_SAMPLER_ARG', saved.arg],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });

    it('records a span whose caller sampled its trace, and not a new trace outside the ratio (0 here)', () => {
      const root = tracer().startSpan('root', { kind: SpanKind.SERVER });
      expect(root.isRecording()).toBe(false);
      root.end();
      const child = tracer().startSpan('child', { kind: SpanKind.CONSUMER }, contextOf(SAMPLED));
      expect(child.isRecording()).toBe(true);
      context.with(trace.setSpan(context.active(), child), () => {
        expect(activeTraceId()).toBe(TRACE);
        expect(traceparentOf()).toBe(traceparentOfSpan(child));
      });
      child.end();
      const unsampled = tracer().startSpan('not', {}, contextOf(NOT_SAMPLED));
      expect(unsampled.isRecording()).toBe(false);
      expect(isSampledTraceparent(traceparentOfSpan(unsampled))).toBe(false);
      unsampled.end();
      expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['child']);
    });
  });
});
