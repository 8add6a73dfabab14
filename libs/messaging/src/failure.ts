/**
 * What a consumer does with a handler's failure depends on what kind it is (ADR 8):
 * - `permanent`: retrying cannot help (a domain rule refuses the event, a value Postgres cannot store). The event is
 *   dead-lettered at once, alone, and its partition moves on.
 * - `transient`: something the handler depends on is down for the moment (Postgres, the broker, another service's
 *   API, a deadlock, a timeout). The partition waits and retries with capped backoff for as long as it takes; nothing
 *   is dead-lettered for it, because the event will succeed once the dependency is back.
 * - `unclassified`: nobody said. Retried a bounded number of times (a bug can make an event fail for ever, and it
 *   must not hold its whole partition hostage), then dead-lettered with the error, for ops to replay once fixed.
 */
export type FailureKind = 'permanent' | 'transient' | 'unclassified';

/** Thrown by a handler for a failure retrying cannot fix: the message goes to the DLQ at once. */
export class PermanentEventError extends Error {}

/** Thrown by a handler when a dependency is unavailable: the partition waits and retries until it is back. */
export class TransientEventError extends Error {}

/**
 * SQLSTATEs of failures that go away by themselves: connection exceptions (class 08), insufficient resources (53),
 * operator intervention such as a server shutting down or starting (57P01–57P05, and 57014, a statement timeout), and
 * a transaction that lost a race (serialization failure, deadlock, lock not available).
 */
const TRANSIENT_SQLSTATE = /^(08|53|57P0)|^(57014|40001|40P01|55P03)$/;
/**
 * SQLSTATEs that no retry changes: a data exception (class 22, e.g. a value out of range or text Postgres cannot
 * store) or an integrity constraint the event itself breaks (23).
 */
const PERMANENT_SQLSTATE = /^(22|23)/;
/** Node's network errors: the peer is down, restarting or unreachable. */
const TRANSIENT_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
]);
/** What pg, TypeORM and fetch say, without a code, when the connection went away. */
const TRANSIENT_MESSAGE =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is not established|Driver not Connected|the database system is (starting up|shutting down|in recovery mode)|fetch failed|The operation was aborted due to timeout/i;

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  errno?: unknown;
  message?: unknown;
  retriable?: unknown;
  cause?: unknown;
  driverError?: unknown;
}

/** Classifies a handler's failure, looking through wrapped errors (`cause`, TypeORM's `driverError`). */
export function classifyFailure(error: unknown): FailureKind {
  const seen = new Set<unknown>();
  let kind: FailureKind = 'unclassified';
  const visit = (e: unknown): void => {
    if (e === null || typeof e !== 'object' || seen.has(e)) return;
    seen.add(e);
    if (e instanceof PermanentEventError) kind = 'permanent';
    if (kind === 'permanent') return;
    const err = e as ErrorLike;
    const code = typeof err.code === 'string' ? err.code : undefined;
    if (e instanceof TransientEventError) kind = 'transient';
    else if (code && /^[0-9A-Z]{5}$/.test(code) && PERMANENT_SQLSTATE.test(code)) kind = 'permanent';
    else if (code && /^[0-9A-Z]{5}$/.test(code) && TRANSIENT_SQLSTATE.test(code)) kind = 'transient';
    else if (code && TRANSIENT_ERRNO.has(code)) kind = 'transient';
    else if (err.retriable === true && typeof err.name === 'string' && err.name.startsWith('KafkaJS')) {
      kind = 'transient';
    } else if (typeof err.message === 'string' && TRANSIENT_MESSAGE.test(err.message)) kind = 'transient';
    if (kind === 'permanent') return;
    visit(err.driverError);
    visit(err.cause);
    if (e instanceof AggregateError) for (const inner of e.errors) visit(inner);
  };
  visit(error);
  return kind;
}
