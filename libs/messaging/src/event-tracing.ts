import { CloudEvent } from '@claimchain/wire';
import { traceparentOf, tracingEnabled } from '@claimchain/observability';

/**
 * How a claim's trace crosses the outbox and Kafka (ADR 20). An event carries the trace context it was made in, as a
 * W3C `traceparent` string: the span of the request, or of the consumer batch, that made it. That string is captured
 * when the event is built (buildEvent), stored with its outbox row (the relay publishes it later, in another
 * transaction), sent as the message's `traceparent` header, and read back by the consumer, whose batch span is its
 * child (the batch's first sampled event) or links to it (the others).
 *
 * A batch handler handles many events in one call, so "the active span" cannot say which consumed event caused a new
 * one; the event's `causationid` does. The `traceparent` each event consumed or produced lately continues is
 * remembered by event id (a bounded map, this process only), so an event built with a `causationid` continues its
 * cause's trace, even when it is built later, by a timer (the ledger's checkpoint, a payout settling). After a
 * restart, or past the map's bound, such an event starts a trace of its own; its `correlationid` still ties it to the
 * claim. Only strings move here: no span, context or propagator call per event, so a sampled-out claim costs a few
 * map operations.
 *
 * Everything here returns at once when tracing is off.
 */

/** The `traceparent` each recent event continues, by event id, oldest first (a Map keeps insertion order). */
const recent = new Map<string, string>();
const RECENT_MAX = 20_000;

/** The `traceparent` each built event will carry, captured when it was built. */
const builtTraceparents = new WeakMap<CloudEvent, string>();
/** The `traceparent` header each consumed event arrived with. */
const consumedTraceparents = new WeakMap<CloudEvent, string>();

/** Remembers the `traceparent` an event continues (the span it was handled or made in), for the events it causes. */
export function rememberEventTrace(eventId: string, traceparent: string): void {
  if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value!);
  recent.set(eventId, traceparent);
}

/** Called by buildEvent: captures the trace the new event continues (its cause's when remembered, else the active). */
export function captureEventTrace(event: CloudEvent): void {
  if (!tracingEnabled()) return;
  const traceparent = (event.causationid === undefined ? undefined : recent.get(event.causationid)) ?? traceparentOf();
  if (!traceparent) return;
  builtTraceparents.set(event, traceparent);
  rememberEventTrace(event.id, traceparent);
}

/**
 * The `traceparent` an event continues, as captured when it was built: what travels with it where the event itself
 * is copied (claim-intake hands its claims to a worker thread, where this process's tracing is not installed).
 */
export function eventTraceparentOf(event: CloudEvent): string | undefined {
  return tracingEnabled() ? builtTraceparents.get(event) : undefined;
}

/**
 * The `traceparent` to store with an event's outbox row: the one handed along with it, else the one captured when it
 * was built, else the active span's (null: none, tracing off or no span).
 */
export function outboxTraceparentOf(item: { event: CloudEvent; traceparent?: string }): string | null {
  if (item.traceparent) return item.traceparent;
  if (!tracingEnabled()) return null;
  return builtTraceparents.get(item.event) ?? traceparentOf() ?? null;
}

/** Called by the consumer transport (tracing on) when it parses a message: the `traceparent` it arrived with. */
export function noteConsumedTraceparent(event: CloudEvent, header: Buffer | string | undefined): void {
  if (header !== undefined) consumedTraceparents.set(event, header.toString());
}

/** The `traceparent` a consumed event arrived with. */
export function consumedTraceparentOf(event: CloudEvent): string | undefined {
  return consumedTraceparents.get(event);
}
