import { ZodError } from 'zod';
import {
  CloudEvent,
  CloudEventEnvelope,
  EventCatalog,
  EventDataOf,
  TopicName,
  dataschemaOf,
  newEventId,
  subjectMismatchOf,
} from '@claimchain/wire';
import { currentLogContext } from '@claimchain/http';
import { captureEventTrace } from './event-tracing';

/**
 * Builds and parses CloudEvents against the catalog. Every event is checked here when it is produced and again
 * when it is consumed, so a producer bug cannot smuggle a malformed event past the schema.
 */
export class SchemaViolationError extends Error {
  readonly code = 'MESSAGING.SCHEMA_VIOLATION';
  constructor(
    readonly topic: string,
    detail: string,
  ) {
    super(`message on ${topic} violates its schema: ${detail}`);
  }
}

export interface EventDraft<T extends TopicName> {
  subject: string;
  data: EventDataOf<T>;
  source: string;
  tenantid?: string;
  /** The claim's conversation: its first event's id, inherited by every event that follows (default: this id). */
  correlationid?: string;
  /** What caused this event: the event it was built from, else (the default) the HTTP request being handled. */
  causationid?: string;
  time?: Date;
}

/** What an event caused by `cause` carries forward: `causationid` is the cause, `correlationid` inherited from it. */
export function causedBy(cause: Pick<CloudEvent, 'id' | 'correlationid'>): {
  causationid: string;
  correlationid: string;
} {
  return { causationid: cause.id, correlationid: cause.correlationid };
}

/** Zod issues as `<JSON pointer>: <message>`; `base` is where the validated value sits in the envelope. */
function describeZod(error: ZodError, base = ''): string {
  return error.issues.map((i) => `${base}/${i.path.join('/')}: ${i.message}`).join('; ');
}

export function buildEvent<T extends TopicName>(topic: T, draft: EventDraft<T>): CloudEvent<EventDataOf<T>> {
  const { type, schema } = EventCatalog[topic];
  const parsed = schema.safeParse(draft.data);
  if (!parsed.success) throw new SchemaViolationError(topic, describeZod(parsed.error, '/data'));
  const id = newEventId();
  const event: CloudEvent<EventDataOf<T>> = {
    specversion: '1.0',
    id,
    source: draft.source,
    type,
    subject: draft.subject,
    time: (draft.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    dataschema: dataschemaOf(topic),
    correlationid: draft.correlationid ?? id,
    data: parsed.data as EventDataOf<T>,
  };
  const mismatch = subjectMismatchOf(event);
  if (mismatch) throw new SchemaViolationError(topic, mismatch);
  // An event made while handling a request (the log context names it) was caused by that request (ADR 20).
  const causationid = draft.causationid ?? currentLogContext()?.requestId;
  if (causationid) event.causationid = causationid;
  if (draft.tenantid) event.tenantid = draft.tenantid;
  captureEventTrace(event); // the trace it continues travels with its outbox row (event-tracing.ts)
  return event;
}

export function parseEvent<T extends TopicName>(topic: T, raw: Buffer | string | null): CloudEvent<EventDataOf<T>> {
  return checkSubject(topic, validateEvent(topic, parseEnvelopeJson(topic, raw)));
}

/**
 * The envelope's subject rule (libs/wire claim-id): a claim event names its claim twice, as subject and as
 * data.claimId, and an anchor its anchored event's subject twice; one that disagrees with itself can never apply,
 * so it is a schema violation. The consumer checks it after the signature, so a forged event is reported as forged.
 */
export function checkSubject<E extends CloudEvent>(topic: TopicName, event: E): E {
  const mismatch = subjectMismatchOf(event);
  if (mismatch) throw new SchemaViolationError(topic, mismatch);
  return event;
}

/** A message value as a JSON object, not yet validated: what a signature is checked on (the envelope as sent). */
export function parseEnvelopeJson(topic: TopicName, raw: Buffer | string | null): Record<string, unknown> {
  if (raw === null) throw new SchemaViolationError(topic, 'empty message value');
  let json: unknown;
  try {
    json = JSON.parse(raw.toString());
  } catch (e) {
    throw new SchemaViolationError(topic, `not JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SchemaViolationError(topic, 'not a JSON object');
  }
  return json as Record<string, unknown>;
}

/** Checks a parsed envelope against the catalog: the envelope's attributes, its type and its data schema. */
export function validateEvent<T extends TopicName>(topic: T, json: unknown): CloudEvent<EventDataOf<T>> {
  const envelope = CloudEventEnvelope.safeParse(json);
  if (!envelope.success) throw new SchemaViolationError(topic, describeZod(envelope.error));
  const { type, schema } = EventCatalog[topic];
  if (envelope.data.type !== type) {
    throw new SchemaViolationError(topic, `type ${envelope.data.type} does not belong on this topic (${type})`);
  }
  const data = schema.safeParse(envelope.data.data);
  if (!data.success) throw new SchemaViolationError(topic, describeZod(data.error, '/data'));
  return { ...(envelope.data as CloudEvent), data: data.data as EventDataOf<T> };
}
