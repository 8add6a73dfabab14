import { CloudEvent } from './envelope';
import { Topics } from './topics';
import { EventCatalog } from './event-catalog';

/**
 * One name for a claim id. On the wire a claim event carries it twice, as the envelope's `subject` (which is also its
 * Kafka key, so a claim's events stay in order on one partition) and as `data.claimId`; a `ledger.anchored` event
 * carries the anchored event's subject as its own `subject` and as `data.eventSubject`. The wire format stays as it
 * is (topics keep their stored events); the rule that the two agree is checked where events are built and where
 * they are consumed (messaging's event codec: a mismatch is a schema violation, dead-lettered), and code reads a
 * claim id only through `claimIdOf`.
 */

const ANCHORED = EventCatalog[Topics.LedgerAnchored].type;

/**
 * Why an event breaks the envelope's subject rule, or undefined when it keeps it: an event whose data names a claim
 * (`data.claimId`) has that claim as its subject, and an anchor has the anchored event's subject as its own.
 */
export function subjectMismatchOf(event: Pick<CloudEvent, 'type' | 'subject' | 'data'>): string | undefined {
  const data = (event.data ?? {}) as { claimId?: unknown; eventSubject?: unknown };
  if (event.type === ANCHORED) {
    return data.eventSubject === event.subject
      ? undefined
      : `subject ${event.subject} differs from /data/eventSubject ${String(data.eventSubject)}`;
  }
  if (data.claimId !== undefined && data.claimId !== event.subject) {
    return `subject ${event.subject} differs from /data/claimId ${String(data.claimId)}`;
  }
  return undefined;
}

/**
 * The claim an event is about: a claim event's subject (its `data.claimId`), or for an anchor the anchored event's
 * subject (a claim id when the anchored event is a claim event). Every consumer reads a claim id from an event
 * through this.
 */
export function claimIdOf(event: Pick<CloudEvent, 'type' | 'subject' | 'data'>): string {
  return event.type === ANCHORED ? (event.data as { eventSubject: string }).eventSubject : event.subject;
}
