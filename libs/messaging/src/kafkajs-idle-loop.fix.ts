import { createRequire } from 'node:module';

/**
 * Stops kafkajs 2.2.4 from running a timer every millisecond on each broker connection.
 *
 * This is kafkajs issue #1556, with fix PR #1667; neither is released, since kafkajs is unmaintained. The bug: once
 * a connection has had an answer, `RequestQueue.scheduleCheckPendingRequests` keeps scheduling a check. It uses
 * `setTimeout(check, throttledUntil - now)`, and that delay is negative when nothing is throttled, so Node runs it
 * after 1 ms. Each check finds nothing pending and schedules the next.
 *
 * The result is about 1,000 timer wake-ups a second per connection, in every service, busy or idle. It showed in
 * every service's CPU profile at 1 claim/s (docs/performance.md).
 *
 * The replacement schedules a check only while a request waits: at the end of the throttle when throttled, else after
 * kafkajs' own 10 ms. kafkajs already checks the queue without a timer whenever an answer or a timeout frees a slot
 * (`fulfillRequest` and the socket request's `timeout`), and `push` schedules a check when it has to queue. So with
 * nothing pending, nothing needs the timer.
 *
 * The replacement is applied only if the method is still the one described here. A kafkajs with a different method
 * is left alone, and `kafkajsIdleLoopFix()` says why.
 */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10; // kafkajs' own CHECK_PENDING_REQUESTS_INTERVAL

interface RequestQueueLike {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

export type KafkajsIdleLoopFix = { applied: true } | { applied: false; reason: string };

let outcome: KafkajsIdleLoopFix | undefined;

function scheduleCheckPendingRequests(this: RequestQueueLike): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_REQUESTS_INTERVAL_MS,
  );
}

/** Applies the fix once per process (idempotent); says whether it did. */
export function kafkajsIdleLoopFix(): KafkajsIdleLoopFix {
  if (outcome) return outcome;
  outcome = apply();
  return outcome;
}

function apply(): KafkajsIdleLoopFix {
  const load = createRequire(__filename);
  let version: string;
  let proto: RequestQueueLike;
  try {
    version = (load('kafkajs/package.json') as { version: string }).version;
    proto = (load('kafkajs/src/network/requestQueue') as { prototype: RequestQueueLike }).prototype;
  } catch (error) {
    return { applied: false, reason: `kafkajs' request queue could not be loaded: ${String(error)}` };
  }
  const original = proto.scheduleCheckPendingRequests?.toString() ?? '';
  if (version !== '2.2.4' || !original.includes('this.throttledUntil - Date.now()')) {
    return { applied: false, reason: `kafkajs ${version}'s request queue is not the one this fix was written for` };
  }
  proto.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
  return { applied: true };
}
