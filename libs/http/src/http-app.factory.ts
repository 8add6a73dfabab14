import { DynamicModule, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { ProblemDetailsFilter } from './problem-details.filter';

/** Request bodies above this are refused with 413 before they are parsed. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

const LEVELS: LogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];

/**
 * One way to build a service's HTTP side: Fastify, problem+json errors, FHIR JSON accepted as JSON, bounded
 * bodies, and shutdown hooks so SIGTERM drains the consumer and relay.
 */
export async function createHttpApp(
  module: DynamicModule,
  options: { logLevel: LogLevel },
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    logger: LEVELS.slice(0, LEVELS.indexOf(options.logLevel) + 1),
    bufferLogs: false,
  });
  // FHIR's media type is JSON: parse it with Fastify's own (prototype-poisoning-safe) JSON parser.
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addContentTypeParser(
    'application/fhir+json',
    { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES },
    fastify.getDefaultJsonParser('error', 'error'),
  );
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.enableShutdownHooks();
  return app;
}
