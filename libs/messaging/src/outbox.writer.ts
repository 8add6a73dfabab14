import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { CloudEvent, TopicName } from '@claimchain/contracts';
import { EventDraft, buildEvent } from './event-codec';
import { OUTBOX_CHANNEL } from './outbox.relay';

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
 * `firstParam`. Each event is serialised once and the batch travels as one JSON array (the driver would escape every
 * element of a text[] array; this costs nothing), its id and key read back from it.
 */
export function outboxInsert(events: readonly { topic: TopicName; event: CloudEvent }[], firstParam = 1): OutboxInsert {
  return {
    cte: `outbox_written AS (
      INSERT INTO outbox (event_id, topic, message_key, payload)
      SELECT (e.payload->>'id')::uuid, e.topic, e.payload->>'subject', e.payload
        FROM ROWS FROM (unnest($${firstParam}::text[]), jsonb_array_elements($${firstParam + 1}::jsonb)) AS e(topic, payload)
      RETURNING event_id, payload)`,
    notify: `SELECT pg_notify('${OUTBOX_CHANNEL}', '') FROM (SELECT count(*) FROM outbox_written) written`,
    params: [events.map((e) => e.topic), `[${events.map((e) => JSON.stringify(e.event)).join(',')}]`],
  };
}

/**
 * Writes events to the transactional outbox. Call it with the EntityManager of the transaction that changes the
 * domain rows: the event exists if and only if the change committed. The relay publishes it later.
 */
@Injectable()
export class OutboxWriter {
  async add<T extends TopicName>(em: EntityManager, topic: T, draft: EventDraft<T>): Promise<CloudEvent> {
    const event = buildEvent(topic, draft);
    await this.addBuilt(em, [{ topic, event }]);
    return event;
  }

  /** One statement for many events (and the NOTIFY): the ledger's anchored notices come in batches. */
  async addBuilt(em: EntityManager, events: { topic: TopicName; event: CloudEvent }[]): Promise<void> {
    if (events.length === 0) return;
    const outbox = outboxInsert(events);
    await em.query(`WITH ${outbox.cte} ${outbox.notify}`, outbox.params);
  }
}
