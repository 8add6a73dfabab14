/**
 * The server-side facts, read from the services' own databases after a phase (the bench owns them): every event
 * each service wrote to its outbox (the CloudEvent with its `time`, when the row was written and when the relay
 * published it), every event each consumer took in (its inbox row, `processed_at`: the start of the transaction
 * that applied it), and claim-intake's read model. The bench joins them by event id.
 */
import { Client } from 'pg';
import { SERVICE_NAMES, ServiceName } from '@claimchain/config';
import { databaseUrlOf, Stack } from './stack';

export interface OutboxEvent {
  id: string;
  producer: ServiceName;
  topic: string;
  type: string;
  subject: string;
  /** The event's own time (ms since the epoch): when the owning service says the fact happened. */
  time: number;
  createdAt: number;
  publishedAt: number | null;
  /** ledger.anchored: the event it anchors (one entry of a notice). */
  about: string | null;
  /** ledger.anchored: the id of the notice (the Kafka record consumers take in) that carries this entry. */
  notice?: string;
  /** claim.adjudicated: the decision. */
  decision: string | null;
}

export interface InboxRow {
  consumer: ServiceName;
  eventId: string;
  topic: string;
  processedAt: number;
}

export interface IntakeClaim {
  id: string;
  status: string;
  decision: string | null;
  submittedAt: number;
  updatedAt: number;
}

export interface Facts {
  /** By id; a ledger.anchored.v2 notice's entries by `<notice id>/<anchored event id>`, one each. */
  events: Map<string, OutboxEvent>;
  /** The ledger.anchored.v2 notices themselves, by id, with the claims their entries name. */
  notices: Map<string, { time: number; subjects: Set<string> }>;
  inbox: InboxRow[];
  claims: Map<string, IntakeClaim>;
}

const QUERY_TIMEOUT_MS = 120_000;

async function withDatabase<T>(stack: Stack, service: ServiceName, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({
    connectionString: databaseUrlOf(stack.databaseUrl, stack.databases[service]),
    statement_timeout: QUERY_TIMEOUT_MS,
    connectionTimeoutMillis: 10_000,
  });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const ms = (d: Date | null) => (d ? d.getTime() : null);

/** Everything written or taken in since `since` (ms), about the claims named (and, for inboxes, anything). */
export async function collectFacts(stack: Stack, claimIds: string[], since: number): Promise<Facts> {
  const wanted = new Set(claimIds);
  const sinceDate = new Date(since);
  const perService = await Promise.all(
    SERVICE_NAMES.map((service) =>
      withDatabase(stack, service, async (c) => {
        const outbox = await c.query<{
          id: string;
          topic: string;
          type: string;
          subject: string;
          time: Date;
          created_at: Date;
          published_at: Date | null;
          about: string | null;
          decision: string | null;
        }>(
          `SELECT payload->>'id' AS id, topic, payload->>'type' AS type, payload->>'subject' AS subject,
                  (payload->>'time')::timestamptz AS time, created_at, published_at,
                  payload->'data'->>'eventId' AS about, payload->'data'->>'decision' AS decision
             FROM outbox WHERE created_at >= $1 AND topic <> 'ledger.anchored.v2'`,
          [sinceDate],
        );
        // One notice per checkpoint lists many claims' anchors (ADR 23): one row per entry, as if each its own event.
        const entries = await c.query<{
          notice: string;
          subject: string;
          time: Date;
          created_at: Date;
          published_at: Date | null;
          about: string;
          topic: string;
          type: string;
        }>(
          `SELECT payload->>'id' AS notice, e->>'eventSubject' AS subject, (payload->>'time')::timestamptz AS time,
                  created_at, published_at, e->>'eventId' AS about, topic, payload->>'type' AS type
             FROM outbox, jsonb_array_elements(payload->'data'->'entries') AS e
            WHERE created_at >= $1 AND topic = 'ledger.anchored.v2'`,
          [sinceDate],
        );
        const inbox = await c.query<{ event_id: string; topic: string; processed_at: Date }>(
          `SELECT event_id, topic, processed_at FROM inbox WHERE processed_at >= $1`,
          [sinceDate],
        );
        return { service, outbox: outbox.rows, entries: entries.rows, inbox: inbox.rows };
      }),
    ),
  );
  const events = new Map<string, OutboxEvent>();
  const notices = new Map<string, { time: number; subjects: Set<string> }>();
  const inbox: InboxRow[] = [];
  for (const { service, outbox, entries, inbox: rows } of perService) {
    for (const r of entries) {
      if (!wanted.has(r.subject)) continue;
      let notice = notices.get(r.notice);
      if (!notice) notices.set(r.notice, (notice = { time: r.time.getTime(), subjects: new Set() }));
      notice.subjects.add(r.subject);
      events.set(`${r.notice}/${r.about}`, {
        id: `${r.notice}/${r.about}`,
        producer: service,
        topic: r.topic,
        type: r.type,
        subject: r.subject,
        time: r.time.getTime(),
        createdAt: r.created_at.getTime(),
        publishedAt: ms(r.published_at),
        about: r.about,
        notice: r.notice,
        decision: null,
      });
    }
    for (const r of outbox) {
      if (!wanted.has(r.subject)) continue;
      events.set(r.id, {
        id: r.id,
        producer: service,
        topic: r.topic,
        type: r.type,
        subject: r.subject,
        time: r.time.getTime(),
        createdAt: r.created_at.getTime(),
        publishedAt: ms(r.published_at),
        about: r.about,
        decision: r.decision,
      });
    }
    for (const r of rows)
      inbox.push({ consumer: service, eventId: r.event_id, topic: r.topic, processedAt: r.processed_at.getTime() });
  }
  const claims = await withDatabase(stack, 'claim-intake', async (c) => {
    const { rows } = await c.query<{
      id: string;
      status: string;
      decision: string | null;
      submitted_at: Date;
      updated_at: Date;
    }>(`SELECT id, status, decision, submitted_at, updated_at FROM claims WHERE id = ANY($1::uuid[])`, [claimIds]);
    return new Map(
      rows.map((r) => [
        r.id,
        {
          id: r.id,
          status: r.status,
          decision: r.decision,
          submittedAt: r.submitted_at.getTime(),
          updatedAt: r.updated_at.getTime(),
        },
      ]),
    );
  });
  return { events, notices, inbox, claims };
}

/**
 * How many of the claims have reached their end in the owning services (rejected by treatment-verification; denied,
 * pended or settled in payout) and how many claim-intake shows at an end status. Cheap: used to end the drain.
 */
export async function countFinished(stack: Stack, claimIds: string[]): Promise<{ done: number; shown: number }> {
  const [rejected, decided, shown] = await Promise.all([
    withDatabase(stack, 'treatment-verification', async (c) => {
      const { rows } = await c.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM confirmations WHERE outcome = 'rejected' AND claim_id = ANY($1::uuid[])`,
        [claimIds],
      );
      return rows[0].n;
    }),
    withDatabase(stack, 'payout', async (c) => {
      const { rows } = await c.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM adjudications a LEFT JOIN payouts p USING (claim_id)
          WHERE a.claim_id = ANY($1::uuid[]) AND (a.decision IN ('denied', 'pended') OR p.settled_at IS NOT NULL)`,
        [claimIds],
      );
      return rows[0].n;
    }),
    withDatabase(stack, 'claim-intake', async (c) => {
      const { rows } = await c.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM claims
          WHERE id = ANY($1::uuid[]) AND status IN ('paid', 'denied', 'pended', 'verification-rejected')`,
        [claimIds],
      );
      return rows[0].n;
    }),
  ]);
  return { done: rejected + decided, shown };
}

/** Transactions committed so far in the bench's four databases (pg_stat_database; its counters lag ≤ ~1 s). */
export async function committedTransactions(stack: Stack): Promise<number> {
  const client = new Client({ connectionString: stack.databaseUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      `SELECT coalesce(sum(xact_commit), 0)::text AS n FROM pg_stat_database WHERE datname = ANY($1)`,
      [Object.values(stack.databases)],
    );
    return Number(rows[0].n);
  } finally {
    await client.end();
  }
}
