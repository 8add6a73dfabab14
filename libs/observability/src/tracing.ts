import {
  Context,
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  Span,
  SpanContext,
  trace,
  Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/**
 * OpenTelemetry tracing (ADR 20): off unless `OTEL_TRACES_EXPORTER` names an exporter, and then a tracer provider
 * configured by the standard `OTEL_*` variables (sampler, batch processor, OTLP endpoint and headers, resource). Off,
 * nothing is registered: the API's calls are no-ops and the code below checks `tracingEnabled()` before doing any
 * tracing work, so the hot paths pay a boolean test. Spans are made by hand at the few places a claim crosses a
 * boundary (HTTP server, outbox relay, Kafka consumer); there is no auto-instrumentation.
 */
let enabled = false;
let provider: BasicTracerProvider | undefined;
let linkLimit = 128;

/** How many links a span keeps (`OTEL_SPAN_LINK_COUNT_LIMIT`, 128 by default): more are not worth building. */
export function spanLinkLimit(): number {
  return linkLimit;
}

/** Whether a tracer provider is installed (startTracing found an exporter, or a test installed one). */
export function tracingEnabled(): boolean {
  return enabled;
}

/** The tracer every span of ours comes from (its instrumentation scope is `claimchain`). */
export function tracer(): Tracer {
  return trace.getTracer('claimchain');
}

/**
 * Installs a tracer provider for this process with these span processors: W3C trace-context propagation and an
 * AsyncLocalStorage context manager, so the active span follows async work. The sampler and span limits come from
 * the `OTEL_*` variables (sdk-trace-base reads them). Once per process: the four services of an in-process test
 * share it. Returns a function that flushes and removes it.
 */
export function installTracing(processors: SpanProcessor[], service = 'claimchain'): () => Promise<void> {
  if (provider) throw new Error('tracing is already installed in this process');
  const resource = resourceFromAttributes({ 'service.name': service, 'service.namespace': 'claimchain' }).merge(
    detectResources({ detectors: [envDetector] }), // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES win
  );
  const installed = new BasicTracerProvider({ resource, spanProcessors: processors });
  const limit = Number(process.env.OTEL_SPAN_LINK_COUNT_LIMIT);
  linkLimit = Number.isInteger(limit) && limit >= 0 ? limit : 128;
  provider = installed;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(installed);
  enabled = true;
  return async () => {
    enabled = false;
    provider = undefined;
    await installed.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  };
}

/**
 * Starts tracing as the `OTEL_*` variables say, for a service process (runService): `OTEL_TRACES_EXPORTER` unset or
 * `none` (or `OTEL_SDK_DISABLED=true`) leaves it off; `otlp` exports over OTLP/HTTP protobuf
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`, …, read by
 * the exporter); `console` prints spans (debugging). Anything else fails the start, as an invalid variable does.
 * Returns the shutdown (flushes what is batched), or undefined when off.
 */
export function startTracing(service: string, env: NodeJS.ProcessEnv = process.env): (() => Promise<void>) | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const names = (env.OTEL_TRACES_EXPORTER ?? 'none')
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter((n) => n && n !== 'none');
  if (names.length === 0) return undefined;
  const processors = names.map((name) => {
    switch (name) {
      case 'otlp': {
        const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
        if (protocol !== 'http/protobuf') {
          throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL ${protocol} is not supported: use http/protobuf (port 4318)`);
        }
        return new BatchSpanProcessor(new OTLPTraceExporter());
      }
      case 'console':
        return new BatchSpanProcessor(new ConsoleSpanExporter());
      default:
        throw new Error(`OTEL_TRACES_EXPORTER ${name} is not supported: use otlp, console or none`);
    }
  });
  return installTracing(processors, service);
}

/** The W3C `traceparent` of a context's span (the active one by default), or undefined when there is none. */
export function traceparentOf(ctx: Context = context.active()): string | undefined {
  if (!enabled) return undefined;
  const carrier: { traceparent?: string } = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

/** The context a `traceparent` names as remote parent (ROOT_CONTEXT when it is missing or malformed). */
export function contextOf(traceparent: string | undefined): Context {
  if (!enabled || !traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** The context of a span context (e.g. one remembered after its span ended). */
export function contextOfSpan(spanContext: SpanContext): Context {
  return trace.setSpanContext(ROOT_CONTEXT, spanContext);
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The remote span context a version-00 `traceparent` names (for a span link), or undefined when it is malformed. */
export function spanContextOf(traceparent: string): SpanContext | undefined {
  const m = TRACEPARENT.exec(traceparent);
  if (!m) return undefined;
  const spanContext = { traceId: m[1], spanId: m[2], traceFlags: parseInt(m[3], 16), isRemote: true };
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** Whether a `traceparent` says its trace is sampled (flag 01): read from the string, no parse, no allocation. */
export function isSampledTraceparent(traceparent: string): boolean {
  return traceparent.length === 55 && (parseInt(traceparent.slice(53), 16) & 1) === 1;
}

/** The `traceparent` naming a span as parent (what an event made in it carries on). */
export function traceparentOfSpan(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`;
}

/** The trace id of the active span, when there is a valid one. */
export function activeTraceId(): string | undefined {
  if (!enabled) return undefined;
  const span = trace.getActiveSpan()?.spanContext();
  return span && isSpanContextValid(span) ? span.traceId : undefined;
}
