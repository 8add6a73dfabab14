import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What a log line is about, beyond the class that wrote it: the HTTP request (its id, echoed as `x-request-id`), the
 * claim where one is known (a claim route's id, the subject of the event being handled), the trace (from a W3C
 * `traceparent`), and an access line's fields. Held per request or per event in async context, so every line
 * written while handling it carries the same ids without passing them around; the JSON logger adds them.
 */
export interface LogContext {
  requestId?: string;
  claimId?: string;
  eventId?: string;
  traceId?: string;
  [field: string]: unknown;
}

const storage = new AsyncLocalStorage<LogContext>();

export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}

/** Runs `fn` with these fields added to the current context (a copy: the outer context is not changed). */
export function runWithLogContext<T>(fields: LogContext, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...fields }, fn);
}

/** Adds fields to the context already in force (e.g. the claim id once the route's parameters are known). */
export function addToLogContext(fields: LogContext): void {
  const store = storage.getStore();
  if (store) Object.assign(store, fields);
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The trace id of a W3C `traceparent` header, or undefined when there is none or it is malformed. */
export function traceIdOf(traceparent: unknown): string | undefined {
  const match = typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent) : null;
  return match && !/^0+$/.test(match[1]) ? match[1] : undefined;
}
