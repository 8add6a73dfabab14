/**
 * Poison messages for the chaos run, produced straight onto topics the services consume, each marked with an
 * `x-chaos-poison` header (the DLQ keeps a message's headers) so the reconciliation can tell injected poison from
 * anything else that was dead-lettered:
 *
 * - `not-json`, `not-an-event` (JSON of another shape), `wrong-type` (a CloudEvent of a type the topic does not
 *   carry), `huge` (~1 MB of JSON, near the broker's limit): each consumer of the topic must dead-letter it at once
 *   and keep the partition flowing;
 * - `duplicate-id`: an event every consumer has already processed, sent again with other content under its id: it no
 *   longer matches its producer's signature, so every consumer that takes it dead-letters it (reason `signature`,
 *   ADR 18) before its inbox sees it; either way it has no effect.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Kafka, Producer } from 'kafkajs';
import { ServiceName } from '@claimchain/config';
import { Topics, TopicName } from '@claimchain/wire';
import { createKafka, IDEMPOTENT_PRODUCER } from '@claimchain/messaging';
import { databaseUrlOf, Stack } from '../e2e/stack';
import { seededRandom } from '../e2e/workload';

export const POISON_KINDS = ['not-json', 'not-an-event', 'wrong-type', 'huge', 'duplicate-id'] as const;
export type PoisonKind = (typeof POISON_KINDS)[number];
export const POISON_HEADER = 'x-chaos-poison';

/** Topics a service consumes, each poisoned in turn. */
const POISONED_TOPICS: readonly TopicName[] = [
  Topics.ClaimsSubmitted,
  Topics.TreatmentsVerified,
  Topics.LedgerAnchored,
  Topics.ClaimsAdjudicated,
  Topics.PayoutsReleased,
];
/** The consumers of claims.submitted.v1: a duplicate is sent only once each has processed the original. */
const SUBMITTED_CONSUMERS: readonly ServiceName[] = ['treatment-verification', 'payout', 'ledger-anchoring'];
const HUGE_BYTES = 1_000_000;

export interface InjectedPoison {
  id: string;
  kind: PoisonKind;
  topic: TopicName;
  bytes: number;
  /** duplicate-id: the event id reused. */
  eventId?: string;
  /** The consumers' inboxes absorb it: no dead letter is expected. */
  absorbed: boolean;
}

export class PoisonInjector {
  readonly injected: InjectedPoison[] = [];
  private readonly kafka: Kafka;
  private producer?: Producer;
  private readonly random: () => number;

  constructor(
    private readonly stack: Stack,
    seed: number,
  ) {
    this.kafka = createKafka('claimchain-chaos-poison', stack.brokers);
    this.random = seededRandom(seed ^ 0x9015);
  }

  /** One poison message; returns what was sent, in words. */
  async inject(): Promise<string> {
    const kind = POISON_KINDS[Math.floor(this.random() * POISON_KINDS.length)];
    const topic = POISONED_TOPICS[Math.floor(this.random() * POISONED_TOPICS.length)];
    const id = randomUUID();
    const message = kind === 'duplicate-id' ? await this.duplicate() : { topic, value: this.malformed(kind, id) };
    if (!message) return 'poison skipped: no event processed by every consumer yet';
    const poison: InjectedPoison = {
      id,
      kind,
      topic: message.topic,
      bytes: Buffer.byteLength(message.value),
      absorbed: kind === 'duplicate-id',
      ...('eventId' in message && { eventId: message.eventId }),
    };
    // A fresh producer after a failure: the broker may have been killed under the last one.
    this.producer ??= this.kafka.producer(IDEMPOTENT_PRODUCER);
    try {
      await this.producer.connect();
      await this.producer.send({
        topic: message.topic,
        acks: -1,
        messages: [
          { key: 'eventId' in message ? message.key : id, value: message.value, headers: { [POISON_HEADER]: id } },
        ],
      });
    } catch (error) {
      await this.producer.disconnect().catch(() => undefined);
      this.producer = undefined;
      throw error;
    }
    this.injected.push(poison);
    return `poison ${kind} (${poison.bytes} bytes) on ${message.topic}`;
  }

  async close(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
  }

  private malformed(kind: Exclude<PoisonKind, 'duplicate-id'>, id: string): string {
    switch (kind) {
      case 'not-json':
        return `chaos ${id}: {"this is": not json`;
      case 'not-an-event':
        return JSON.stringify({ chaos: id, hello: 'world', n: [1, 2, 3] });
      case 'wrong-type':
        return JSON.stringify({
          specversion: '1.0',
          id,
          source: 'claimchain/chaos',
          type: 'dev.claimchain.chaos.bogus.v1',
          subject: randomUUID(),
          time: new Date().toISOString(),
          datacontenttype: 'application/json',
          data: { bogus: true },
        });
      case 'huge':
        return JSON.stringify({ chaos: id, padding: 'x'.repeat(HUGE_BYTES) });
    }
  }

  /**
   * A claims.submitted.v1 event that every consumer has in its inbox, with another `time`: processing it would
   * change what the ledger records for that id, so the inboxes must drop it.
   */
  private async duplicate(): Promise<{ topic: TopicName; key: string; value: string; eventId: string } | undefined> {
    const candidates = await this.query<{ id: string; subject: string; payload: Record<string, unknown> }>(
      'claim-intake',
      `SELECT payload->>'id' AS id, payload->>'subject' AS subject, payload FROM outbox
        WHERE topic = $1 AND published_at IS NOT NULL ORDER BY seq DESC LIMIT 200 OFFSET 100`,
      [Topics.ClaimsSubmitted],
    );
    const ids = candidates.map((c) => c.id);
    let everywhere = new Set(ids);
    for (const consumer of SUBMITTED_CONSUMERS) {
      const seen = await this.query<{ event_id: string }>(
        consumer,
        `SELECT event_id FROM inbox WHERE event_id = ANY($1::uuid[])`,
        [ids],
      );
      const had = new Set(seen.map((r) => r.event_id));
      everywhere = new Set([...everywhere].filter((id) => had.has(id)));
    }
    const original = candidates.find((c) => everywhere.has(c.id));
    if (!original) return undefined;
    const value = JSON.stringify({ ...original.payload, time: new Date().toISOString() });
    return { topic: Topics.ClaimsSubmitted, key: original.subject, value, eventId: original.id };
  }

  private async query<T extends object>(service: ServiceName, sql: string, params: unknown[]): Promise<T[]> {
    const client = new Client({
      connectionString: databaseUrlOf(this.stack.databaseUrl, this.stack.databases[service]),
      connectionTimeoutMillis: 5_000,
      statement_timeout: 10_000,
    });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
