import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { CloudEvent, TopicName } from '@claimchain/contracts';
import { EventDraft, buildEvent } from './event-codec';
import { OUTBOX_CHANNEL } from './outbox.relay';

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

  /** One INSERT for many events: the ledger's anchored notices come in batches. */
  async addBuilt(em: EntityManager, events: { topic: TopicName; event: CloudEvent }[]): Promise<void> {
    if (events.length === 0) return;
    const params: unknown[] = [];
    const rows = events.map(({ topic, event }, i) => {
      params.push(event.id, topic, event.subject, JSON.stringify(event));
      return `($${i * 4 + 1}, $${i * 4 + 2}, $${i * 4 + 3}, $${i * 4 + 4}::jsonb)`;
    });
    // The NOTIFY is delivered when (and only if) the transaction commits: it wakes the relay without waiting for its
    // next poll, in the same round trip as the insert.
    await em.query(
      `WITH ins AS (INSERT INTO outbox (event_id, topic, message_key, payload) VALUES ${rows.join(', ')} RETURNING 1)
       SELECT pg_notify('${OUTBOX_CHANNEL}', '') FROM (SELECT count(*) AS n FROM ins) written`,
      params,
    );
  }
}
