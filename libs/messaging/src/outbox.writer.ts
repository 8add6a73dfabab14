import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { CloudEvent, TopicName } from '@claimchain/wire';
import { EventDraft, buildEvent } from './event-codec';
import { OUTBOX_CHANNEL } from './outbox.relay';
import { PermanentEventError } from './failure';
import { EventSigner } from './event-signature';
import { outboxTraceparentOf } from './event-tracing';

/**
 * The largest event the outbox takes, in bytes of its JSON: under the broker's default message.max.bytes (1 MiB,
 * which also counts the key, headers and record overhead), so every event written can be published. One larger
 * would stall the relay behind it for ever; it is refused where it is made instead.
 */
export const MAX_EVENT_BYTES = 900 * 1024;

/**
 * An event too large to publish. A request that would create it is answered 413 (the HTTP problem filter reads
 * `statusCode`); a handler that would is failing permanently, so its message is dead-lettered.
 */
export class EventTooLargeError extends PermanentEventError {
  readonly statusCode = 413;

  constructor(topic: TopicName, bytes: number) {
    super(`the ${topic} event would be ${bytes} bytes; at most ${MAX_EVENT_BYTES} can be published`);
  }
}

/** The outbox write as parts of one SQL statement (see outboxInsert). */
export interface OutboxInsert {
  /**
   * A data-modifying CTE for the statement's WITH list, `outbox_written`, which returns each row's `event_id` and
   * `payload` (the event as jsonb): a statement that records the events elsewhere too takes them from there.
   */
  cte: string;
  /** The statement's main query: the NOTIFY that wakes the relay, delivered when (and only if) it commits. */
  notify: string;
  params: unknown[];
}

/**
 * The outbox rows for these events as SQL to run inside a statement of the caller's, so a domain change and its
 * events are written in one round trip (`WITH <domain CTEs>, ${cte} ${notify}`); its parameters are numbered from
 * `firstParam`. Each event is signed here by the service's key (ADR 18), so what the outbox holds, the relay
 * publishes and a dead-letter replay re-sends is the signed envelope. An event larger than MAX_EVENT_BYTES is
 * refused (EventTooLargeError). An event copied away from where it was built brings its `traceparent` along
 * (eventTraceparentOf). Each event is serialised once
 * and the batch travels as one JSON array (the driver would escape every element of a text[] array; this costs
 * nothing), its id and key read back from it.
 */
export function outboxInsert(
  events: readonly { topic: TopicName; event: CloudEvent; traceparent?: string }[],
  signer: EventSigner,
  firstParam = 1,
): OutboxInsert {
  const payloads = events.map(({ topic, event }) => {
    const json = JSON.stringify(signer.sign(event));
    // Cheap first: a string's UTF-8 size is at most 3 bytes per UTF-16 unit.
    if (json.length * 3 > MAX_EVENT_BYTES && Buffer.byteLength(json) > MAX_EVENT_BYTES) {
      throw new EventTooLargeError(topic, Buffer.byteLength(json));
    }
    return json;
  });
  // The trace each event continues (ADR 20), or NULL for all of them when tracing is off (ROWS FROM pads a shorter
  // function's rows, here an empty array's, with NULLs).
  const traceparents = events.map(outboxTraceparentOf);
  return {
    cte: `outbox_written AS (
      INSERT INTO outbox (event_id, topic, message_key, payload, traceparent)
      SELECT (e.payload->>'id')::uuid, e.topic, e.payload->>'subject', e.payload, e.traceparent
        FROM ROWS FROM (unnest($${firstParam}::text[]), jsonb_array_elements($${firstParam + 1}::jsonb),
                        unnest($${firstParam + 2}::text[])) AS e(topic, payload, traceparent)
      RETURNING event_id, payload)`,
    notify: `SELECT pg_notify('${OUTBOX_CHANNEL}', '') FROM (SELECT count(*) FROM outbox_written) written`,
    params: [
      events.map((e) => e.topic),
      `[${payloads.join(',')}]`,
      traceparents.some((t) => t !== null) ? traceparents : [],
    ],
  };
}

/**
 * Writes events to the transactional outbox. Call it with the EntityManager of the transaction that changes the
 * domain rows: the event exists if and only if the change committed. The relay publishes it later.
 */
@Injectable()
export class OutboxWriter {
  constructor(private readonly signer: EventSigner) {}

  async add<T extends TopicName>(em: EntityManager, topic: T, draft: EventDraft<T>): Promise<CloudEvent> {
    const event = buildEvent(topic, draft);
    await this.addBuilt(em, [{ topic, event }]);
    return event;
  }

  /** One statement for many events (and the NOTIFY): the ledger's anchored notices come in batches. */
  async addBuilt(em: EntityManager, events: { topic: TopicName; event: CloudEvent }[]): Promise<void> {
    if (events.length === 0) return;
    const outbox = outboxInsert(events, this.signer);
    await em.query(`WITH ${outbox.cte} ${outbox.notify}`, outbox.params);
  }
}
