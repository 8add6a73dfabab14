import { DynamicModule, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import helmet from '@fastify/helmet';
import { ProblemDetailsFilter } from './problem-details.filter';
import { setupOpenApi } from './openapi';

/** Request bodies above this are refused with 413 before they are parsed. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

const LEVELS: LogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];

/**
 * One way to build a service's HTTP side: Fastify, problem+json errors, FHIR JSON accepted as JSON, bounded
 * bodies (the exact bytes kept as rawBody), security headers and OpenAPI at /docs. Shutdown is runService's.
 */
export async function createHttpApp(
  module: DynamicModule,
  options: { logLevel: LogLevel; title?: string; description?: string },
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    logger: LEVELS.slice(0, LEVELS.indexOf(options.logLevel) + 1),
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
  for (const type of ['application/json', 'application/fhir+json']) {
    app.useBodyParser(type, { bodyLimit: BODY_LIMIT_BYTES }, (request, body, done) => parseJson(request, body, done));
  }
  app.useGlobalFilters(new ProblemDetailsFilter());
  // Security headers on every response; the CSP admits the OpenAPI UI's own inline script and styles at /docs.
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", "'unsafe-inline'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
      },
    },
  });
  setupOpenApi(app, options.title ?? 'service', options.description ?? '');
  // No enableShutdownHooks: it re-raises the signal after closing, so the process dies by it (exit 143, and no
  // --cpu-prof profile). A service's main closes the app on SIGTERM/SIGINT itself and exits 0 (runService).
  return app;
}
