import { CloudEvent } from './envelope';

/**
 * One name for a claim id. On the wire a claim event carries it twice, as the envelope's `subject` (which is also its
 * Kafka key, so a claim's events stay in order on one partition) and as `data.claimId`. The wire format stays as it
 * is (topics keep their stored events); the rule that the two agree is checked where events are built and where
 * they are consumed (messaging's event codec: a mismatch is a schema violation, dead-lettered), and code reads a
 * claim id only through `claimIdOf`. A `ledger.anchored.v2` notice names many events, not one claim: its entries
 * carry each anchored event's subject (`anchorsOf`), and its own subject names the checkpoint part (ADR 23).
 */

/**
 * Why an event breaks the envelope's subject rule, or undefined when it keeps it: an event whose data names a claim
 * (`data.claimId`) has that claim as its subject.
 */
export function subjectMismatchOf(event: Pick<CloudEvent, 'subject' | 'data'>): string | undefined {
  const data = (event.data ?? {}) as { claimId?: unknown };
  if (data.claimId !== undefined && data.claimId !== event.subject) {
    return `subject ${event.subject} differs from /data/claimId ${String(data.claimId)}`;
  }
  return undefined;
}

/** The claim a claim event is about: its subject, which the rule above holds equal to its `data.claimId`. */
export function claimIdOf(event: Pick<CloudEvent, 'subject'>): string {
  return event.subject;
}
