import { randomUUID } from 'node:crypto';
import { DynamicModule, Logger, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import helmet, { FastifyHelmetOptions } from '@fastify/helmet';
import { ClientRequest, OutgoingHttpHeader } from 'node:http';
import { frameworkErrorProblem, ProblemDetailsFilter, writeClientErrorProblem } from './problem-details.filter';
import { setupOpenApi } from './openapi';
import { DomainError } from './domain-error';
import { tooDeepError } from './json-depth';
import { unstorableTextError } from './unstorable-text';
import { logFormatOf, ServiceLogger } from './service-logger';
import { context, propagation, ROOT_CONTEXT, Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { tracer, tracingEnabled } from '@claimchain/observability';
import { addToLogContext, runWithLogContext, traceIdOf } from './log-context';

/** Request bodies above this are refused with 413 before they are parsed. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/** Security headers on every response; the CSP admits the OpenAPI UI's own inline script and styles at /docs. */
const SECURITY_HEADERS: FastifyHelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'", "'unsafe-inline'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
    },
  },
};

/**
 * The headers @fastify/helmet sends with these options, in its order, found once on a throwaway Fastify instance.
 * They depend on the options alone, yet the plugin runs all of helmet's setup (re-parsing the CSP directives among
 * it) on every request; sending the same headers from one hook makes them cost next to nothing.
 */
async function helmetHeaders(options: FastifyHelmetOptions): Promise<[string, OutgoingHttpHeader][]> {
  const probe = new FastifyAdapter().getInstance();
  let headers: [string, OutgoingHttpHeader][] = [];
  await probe.register(helmet, options);
  probe.get('/', (_request, reply) => {
    // Only helmet has set headers on the raw response so far; their names keep its case. (Every OutgoingMessage has
    // getRawHeaderNames; @types/node declares it on ClientRequest only.)
    const raw = reply.raw as typeof reply.raw & Pick<ClientRequest, 'getRawHeaderNames'>;
    headers = raw.getRawHeaderNames().map((name) => [name, raw.getHeader(name)!]);
    return '';
  });
  await probe.inject({ url: '/' });
  await probe.close();
  return headers;
}

/** A body that does not parse (empty, not JSON, or a `__proto__` key) as a 400 problem naming the whole body. */
function notJsonError(error: Error): DomainError {
  return new DomainError('REQUEST.NOT_JSON', 'invalid', 'The request body is not JSON', [
    { pointer: '', detail: error.message },
  ]);
}

/**
 * One way to build a service's HTTP side: Fastify, problem+json errors (including for URLs refused before routing),
 * FHIR JSON accepted as JSON, bodies bounded in bytes and depth (the exact bytes kept as rawBody) holding no text
 * Postgres cannot store, security headers and OpenAPI at /docs. Shutdown is runService's.
 */
export async function createHttpApp(
  module: DynamicModule,
  options: {
    logLevel: LogLevel;
    title?: string;
    description?: string;
    service?: string;
    /** Whose X-Forwarded-For gives `request.ip` (the rate limit's key without a valid token); none by default. */
    trustProxy?: boolean | number | string[];
  },
): Promise<NestFastifyApplication> {
  // Errors raised before a route runs (a URL Fastify's router or Node's HTTP parser refuses) are problems too.
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: options.trustProxy ?? false,
    genReqId: requestIdOf,
    frameworkErrors: frameworkErrorProblem,
    clientErrorHandler: writeClientErrorProblem,
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    logger: new ServiceLogger(options.service ?? options.title ?? 'claimchain', options.logLevel),
    bufferLogs: false,
    rawBody: true,
  });
  // FHIR's media type is JSON: both parse with Fastify's own (prototype-poisoning-safe) JSON parser, and the exact
  // bytes received stay on the request (Nest's rawBody; @RawBody()) for endpoints that store what the client sent.
  // (Fastify's JSON parser takes the Buffer Nest hands it; its typings only say string.)
  const parseJson = app.getHttpAdapter().getInstance().getDefaultJsonParser('error', 'error') as unknown as (
    request: unknown,
    body: Buffer,
    done: (error: Error | null, value?: unknown) => void,
  ) => void;
  // Nesting deeper than anything can read and text Postgres cannot store are refused here, once for every endpoint,
  // as a 400 naming the element (json-depth.ts, unstorable-text.ts).
  for (const type of ['application/json', 'application/fhir+json']) {
    app.useBodyParser(type, { bodyLimit: BODY_LIMIT_BYTES }, (request, body, done) =>
      parseJson(request, body, (error, value) => {
        if (error) return done(notJsonError(error));
        const refused = tooDeepError(value) ?? unstorableTextError(body, value);
        return refused ? done(refused) : done(null, value);
      }),
    );
  }
  app.useGlobalFilters(new ProblemDetailsFilter());
  const headers = await helmetHeaders(SECURITY_HEADERS);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (_request, reply, done) => {
      for (const [name, value] of headers) reply.raw.setHeader(name, value);
      done();
    });
  trackRequests(app);
  setupOpenApi(app, options.title ?? 'service', options.description ?? '');
  // No enableShutdownHooks: it re-raises the signal after closing, so the process dies by it (exit 143, and no
  // --cpu-prof profile). A service's main closes the app on SIGTERM/SIGINT itself and exits 0 (runService).
  return app;
}

/** A caller's `x-request-id` (a proxy's, or a client's own) when it is a sane token; otherwise a new UUID. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
function requestIdOf(request: { headers: Record<string, string | string[] | undefined> }): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Routes whose requests are not access-logged: probes and scrapes arrive every few seconds and say nothing. */
const QUIET_ROUTES = /^\/(health|docs)(\/|$)/;

/** The server span of each traced request (set in onRequest, ended in onResponse). */
const serverSpans = new WeakMap<object, Span>();

/**
 * With tracing on (ADR 20), a SERVER span for the request, child of the caller's `traceparent` when it sends one,
 * named by method and route pattern; the rest of the request runs in its context, so an event the request writes to
 * the outbox carries it on (OutboxWriter). Probes and the OpenAPI pages are not traced.
 */
function startServerSpan(request: {
  method: string;
  url: string;
  headers: Record<string, unknown>;
  routeOptions: { url?: string };
}): Span | undefined {
  const route = request.routeOptions.url;
  if (!tracingEnabled() || (route && QUIET_ROUTES.test(route))) return undefined;
  const parent = propagation.extract(ROOT_CONTEXT, request.headers);
  const span = tracer().startSpan(`${request.method} ${route ?? ''}`.trim(), { kind: SpanKind.SERVER }, parent);
  // Sampled out (OTEL_TRACES_SAMPLER), the span records nothing: no attribute work.
  if (span.isRecording()) {
    span.setAttributes({
      'http.request.method': request.method,
      'http.route': route ?? '',
      'url.path': request.url.split('?')[0],
    });
  }
  return span;
}

/** The trace id a request's log lines carry: its server span's, else the caller's `traceparent`'s. */
function traceIdOfRequest(request: { headers: Record<string, unknown> }, span: Span | undefined): string | undefined {
  return span?.spanContext().traceId ?? traceIdOf(request.headers.traceparent);
}

/**
 * Every request runs in a log context (log-context.ts) with its id (echoed as `x-request-id`), its trace id, and its
 * claim id once the route's parameters name one, so each line logged while handling it carries them; and ends with
 * one access line: method, route pattern, status and duration. Access lines are `log` level in JSON (what a log
 * collector wants) and `verbose` in text, so `npm start`'s output stays readable for people. With tracing on, each
 * request also has a server span (startServerSpan).
 */
function trackRequests(app: NestFastifyApplication): void {
  const access = new Logger('HttpAccess');
  const json = logFormatOf() === 'json';
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      void reply.header('x-request-id', request.id);
      const span = startServerSpan(request);
      const fields = { requestId: request.id, traceId: traceIdOfRequest(request, span) };
      if (!span) return runWithLogContext(fields, done);
      serverSpans.set(request, span);
      context.with(trace.setSpan(context.active(), span), () => runWithLogContext(fields, done));
    })
    .addHook('preHandler', (request, _reply, done) => {
      const claimId = claimIdOf(request);
      if (claimId) addToLogContext({ claimId });
      done();
    })
    .addHook('onResponse', (request, reply, done) => {
      const span = serverSpans.get(request);
      if (span) {
        if (span.isRecording()) span.setAttribute('http.response.status_code', reply.statusCode);
        if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      }
      const route = request.routeOptions.url;
      if (route && QUIET_ROUTES.test(route)) return done();
      const durationMs = Math.round(reply.elapsedTime * 10) / 10;
      // onResponse runs on the socket's 'finish', outside the request's async context: name the request again.
      const fields = {
        requestId: request.id,
        traceId: traceIdOfRequest(request, span),
        claimId: claimIdOf(request),
        method: request.method,
        route: route ?? null,
        status: reply.statusCode,
        durationMs,
      };
      runWithLogContext(fields, () => {
        const line = `${request.method} ${route ?? request.url} ${reply.statusCode} ${durationMs} ms`;
        if (json) access.log(line);
        else access.verbose(line);
      });
      done();
    });
}

/** The claim a request is about, when its route names one (`/v1/claims/:id…`, or any `:claimId` parameter). */
function claimIdOf(request: { params?: unknown; routeOptions: { url?: string } }): string | undefined {
  const params = (request.params ?? {}) as Record<string, unknown>;
  const claimId = params.claimId ?? (request.routeOptions.url?.startsWith('/v1/claims/:id') ? params.id : undefined);
  return typeof claimId === 'string' ? claimId : undefined;
}
