import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { Duplex } from 'node:stream';
import { Observable, throwError } from 'rxjs';
import { DomainError, DomainErrorKind, ProblemFieldError } from './domain-error';

const STATUS_OF: Record<DomainErrorKind, number> = {
  unauthenticated: HttpStatus.UNAUTHORIZED,
  forbidden: HttpStatus.FORBIDDEN,
  'not-found': HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
  invalid: HttpStatus.BAD_REQUEST,
  unprocessable: HttpStatus.UNPROCESSABLE_ENTITY,
  'too-many-requests': HttpStatus.TOO_MANY_REQUESTS,
  unavailable: HttpStatus.SERVICE_UNAVAILABLE,
};

export const PROBLEM_TYPE_BASE = 'https://claimchain.dev/problems/';

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code?: string;
  errors?: ProblemFieldError[];
  /** A health endpoint's 503: each checked dependency and its state (e.g. `"kafka-consumer": {"status": "down"}`). */
  checks?: Record<string, unknown>;
}

function slug(code: string): string {
  return code.toLowerCase().replace(/[._]/g, '-');
}

/**
 * Every HTTP error leaves as RFC 9457 problem+json: domain errors by their kind, Nest/Fastify HTTP errors (404
 * route, 413 body too large, 400 bad JSON) by their status, anything else as an opaque 500 that is logged.
 * Errors of Kafka event handlers pass through untouched (see catch).
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger(ProblemDetailsFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void | Observable<never> {
    // Kafka handlers share the global filters (hybrid app): hand their errors back unchanged, so the event transport
    // can tell a retriable failure from a permanent one and put the real message in the DLQ headers.
    if (host.getType() !== 'http') return throwError(() => exception);
    const http = host.switchToHttp();
    if (exception instanceof DomainError && exception.retryAfterSeconds !== undefined) {
      void http.getResponse<FastifyReply>().header('retry-after', String(exception.retryAfterSeconds));
    }
    sendProblem(http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), this.toProblem(exception));
  }

  private toProblem(exception: unknown): ProblemDetails {
    const problem = problemOf(exception);
    if (problem) return problem;
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    return { type: 'about:blank', title: 'Internal Server Error', status: 500 };
  }
}

function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: ProblemDetails): void {
  problem.instance = request.url;
  if (problem.status === 401) void reply.header('www-authenticate', 'Bearer');
  void reply.status(problem.status).header('content-type', 'application/problem+json').send(problem);
}

/**
 * Fastify's `frameworkErrors`: what its router refuses before any route (and so any Nest filter) runs, a URL with
 * a bad percent-escape (400) or a path parameter over `maxParamLength` (414), answered as a problem like the rest.
 */
export function frameworkErrorProblem(error: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply) {
  const refused =
    error.code === 'FST_ERR_BAD_URL'
      ? new DomainError('REQUEST.BAD_URL', 'invalid', 'The URL is not valid', [
          { pointer: '/url', detail: 'a percent-escape that is not UTF-8' },
        ])
      : error;
  sendProblem(request, reply, problemOf(refused) ?? httpProblem(HttpStatus.BAD_REQUEST, error.message));
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses before Fastify sees a request (headers or a URL
 * over the 16 KiB header limit, 431; a request line or header that is not HTTP, 400; a client too slow, 408), written
 * on the socket as a problem, since there is no request to reply to.
 */
export function writeClientErrorProblem(error: Error & { code?: string }, socket: Duplex): void {
  // A reset connection has no one left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 431
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 408
        : HttpStatus.BAD_REQUEST;
  const body = JSON.stringify(httpProblem(status));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** The problem for an error whose status is known (a domain error, an HTTP error, a Fastify 4xx); else undefined. */
function problemOf(exception: unknown): ProblemDetails | undefined {
  if (exception instanceof DomainError) {
    return {
      type: PROBLEM_TYPE_BASE + slug(exception.code),
      title: exception.message,
      status: STATUS_OF[exception.kind],
      code: exception.code,
      ...(exception.errors.length ? { errors: exception.errors } : {}),
    };
  }
  const status = exception instanceof HttpException ? exception.getStatus() : statusOfFastifyError(exception);
  if (status === undefined) return undefined;
  return httpProblem(status, exception instanceof Error ? exception.message : undefined, healthChecksOf(exception));
}

function httpProblem(status: number, detail?: string, checks?: Record<string, unknown>): ProblemDetails {
  const code = `HTTP.${status}`;
  return {
    type: PROBLEM_TYPE_BASE + slug(code),
    title: httpTitle(status),
    status,
    detail,
    code,
    ...(checks ? { checks } : {}),
  };
}

/** The per-dependency details of a failed @nestjs/terminus check, which an operator needs to see what is down. */
function healthChecksOf(exception: unknown): Record<string, unknown> | undefined {
  if (!(exception instanceof HttpException)) return undefined;
  const body = exception.getResponse() as { status?: unknown; details?: unknown };
  const terminus = typeof body === 'object' && body !== null && body.status === 'error';
  return terminus && typeof body.details === 'object' && body.details !== null
    ? (body.details as Record<string, unknown>)
    : undefined;
}

function statusOfFastifyError(exception: unknown): number | undefined {
  const code = (exception as { statusCode?: unknown })?.statusCode;
  return typeof code === 'number' && code >= 400 && code < 500 ? code : undefined;
}

function httpTitle(status: number): string {
  const name = HttpStatus[status];
  return name
    ? name.toLowerCase().replace(/(^|_)(\w)/g, (_m, sep: string, c: string) => (sep ? ' ' : '') + c.toUpperCase())
    : 'Error';
}
