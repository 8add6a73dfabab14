import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { CloudEvent, TopicName } from '@claimchain/wire';
import { classifyFailure, EventSigner, outboxInsert } from '@claimchain/messaging';
import { ClaimStatus, NEVER_PAID, PAYMENT_STATUSES, STATUS_RANK } from './claim-status';

export interface ClaimRow {
  id: string;
  insurer_id: string;
  provider_id: string;
  coverage: string;
  status: ClaimStatus;
  decision: string | null;
  currency: string;
  total: string;
  payable: string | null;
  paid: string | null;
  cancel_reason: string | null;
  resubmission_of: string | null;
  submitted_at: Date;
  updated_at: Date;
}

export interface ClaimEventRow {
  event_id: string;
  type: string;
  time: Date | null;
  envelope: CloudEvent | null;
  ledger_index: string | null;
  leaf_hash: string | null;
  tree_size: string | null;
  inclusion_proof: string[] | null;
  checkpoint: string | null;
  /** The salt of a salted (v2) leaf, for the receipt only (ADR 16). */
  data_salt: string | null;
}

export interface NewClaim {
  id: string;
  insurerId: string;
  providerId: string;
  patientPseudonym: string;
  coverage: string;
  currency: string;
  total: string;
  /** The request body exactly as the insurer sent it, and the salt of its commitment in claims.submitted.v1. */
  submission: string;
  submissionSalt: string;
  resubmissionOf?: string;
  lines: { sequence: number; system: string; code: string; servicedDate: string }[];
  submittedAt: Date;
}

export interface ClaimListFilter {
  insurerId: string;
  statuses?: ClaimStatus[];
  submittedFrom?: Date;
  submittedTo?: Date;
  after?: { submittedAt: Date; id: string };
  limit: number;
}

const CLAIM_COLUMNS = `c.id, c.insurer_id, c.provider_id, c.coverage, c.status, c.decision, c.currency,
  c.total::text AS total, c.payable::text AS payable, c.paid::text AS paid, c.cancel_reason, c.resubmission_of,
  c.submitted_at, c.updated_at`;

/** A status a claim moves to (if it is higher than its current one), with what the event says beside it. */
export interface ClaimAdvance {
  claimId: string;
  status: ClaimStatus;
  payable?: string;
  paid?: string;
  decision?: string;
  cancelReason?: string;
}

/** Where the ledger recorded one of a claim's events. */
export interface ClaimAnchor {
  eventId: string;
  claimId: string;
  eventType: string;
  leafIndex: number;
  leafHash: string;
  treeSize: number;
  inclusionProof?: string[];
  checkpoint: string;
  dataSalt?: string;
}

/** Runs `work` behind a savepoint: if it fails, the transaction goes on as it was before it. */
async function savepointed(em: EntityManager, name: string, work: () => Promise<void>): Promise<void> {
  await em.query(`SAVEPOINT ${name}`);
  try {
    await work();
  } catch (error) {
    await em.query(`ROLLBACK TO SAVEPOINT ${name}`);
    throw error;
  }
  await em.query(`RELEASE SAVEPOINT ${name}`);
}

/** The last of each key, in first-seen order: one statement may not touch a row twice. */
function uniqueBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  return [...new Map(items.map((item) => [key(item), item])).values()];
}

/** All SQL on claim-intake's tables. Plain SQL: these are hot paths, and rows never leave this class unmapped. */
@Injectable()
export class ClaimsRepository {
  private readonly logger = new Logger(ClaimsRepository.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly signer: EventSigner,
  ) {}

  /**
   * Claims with their lines and, when given, their events (in the claim's timeline and in the outbox, which wakes the
   * relay on commit), all in one statement: group commit stores a whole batch of accepted submissions with it. The
   * CTEs see one snapshot and the foreign keys are checked at the end of the statement, so lines and timeline rows
   * may reference claims inserted beside them. Each event travels once, as the outbox's payload (messaging's
   * `outboxInsert`), and the timeline row is read back from it.
   */
  async insertMany(
    em: EntityManager,
    claims: readonly NewClaim[],
    events: readonly { topic: TopicName; event: CloudEvent }[] = [],
  ): Promise<void> {
    if (claims.length === 0 && events.length === 0) return;
    const lines = claims.flatMap((c) => c.lines.map((l) => ({ ...l, c })));
    const params: unknown[] = [
      claims.map((c) => c.id),
      claims.map((c) => c.insurerId),
      claims.map((c) => c.providerId),
      claims.map((c) => c.patientPseudonym),
      claims.map((c) => c.coverage),
      claims.map((c) => c.currency),
      claims.map((c) => c.total),
      // One JSON array rather than a text[]: the driver escapes each element of an array in JavaScript (~3 µs for a
      // claim's body), JSON.stringify natively.
      JSON.stringify(claims.map((c) => c.submission)),
      claims.map((c) => c.resubmissionOf ?? null),
      claims.map((c) => c.submittedAt),
      claims.map((c) => c.submissionSalt),
      lines.map((l) => l.c.id),
      lines.map((l) => l.sequence),
      lines.map((l) => l.c.patientPseudonym),
      lines.map((l) => l.c.providerId),
      lines.map((l) => l.system),
      lines.map((l) => l.code),
      lines.map((l) => l.servicedDate),
    ];
    const ctes = [
      `stored_claims AS (
        INSERT INTO claims (id, insurer_id, provider_id, patient_pseudonym, coverage, status, currency, total,
                            submission, submission_salt, resubmission_of, submitted_at, updated_at)
        SELECT id, ins, prov, pat, cov, 'submitted', cur, tot::numeric, sub, decode(salt, 'hex'), prior, at, at
          FROM ROWS FROM (unnest($1::uuid[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]),
                          unnest($5::text[]), unnest($6::text[]), unnest($7::text[]), json_array_elements_text($8::json),
                          unnest($9::uuid[]), unnest($10::timestamptz[]), unnest($11::text[]))
               AS t(id, ins, prov, pat, cov, cur, tot, sub, prior, at, salt))`,
      `stored_lines AS (
        INSERT INTO claim_lines (claim_id, sequence, patient_pseudonym, provider_id, system, code, serviced_date)
        SELECT * FROM unnest($12::uuid[], $13::int[], $14::text[], $15::text[], $16::text[], $17::text[], $18::date[]))`,
    ];
    let main = 'SELECT 1';
    if (events.length > 0) {
      const outbox = outboxInsert(events, this.signer, params.length + 1);
      params.push(...outbox.params);
      ctes.push(
        outbox.cte,
        `timeline AS (
          INSERT INTO claim_events (event_id, claim_id, type, time, envelope)
          SELECT event_id, (payload->>'subject')::uuid, payload->>'type', (payload->>'time')::timestamptz, payload
            FROM outbox_written
          ON CONFLICT (event_id) DO UPDATE SET type = EXCLUDED.type, time = EXCLUDED.time, envelope = EXCLUDED.envelope)`,
      );
      main = outbox.notify;
    }
    await em.query(`WITH ${ctes.join(',\n')}\n${main}`, params);
  }

  /**
   * For many candidate claims at once: each earlier claim line that may still be paid for the same patient,
   * provider, service and date. `candidate` is the caller's index; `except` the claim a resubmission replaces.
   *
   * Each candidate line looks up its own matches through the duplicate index (a LATERAL subquery that OFFSET 0 keeps
   * from being flattened into a join). As a plain join, the plan Postgres caches for the prepared statement while
   * claim_lines is still small (a fresh database) hashed the candidates against a scan of the whole table, and kept
   * doing so as it grew: 5 ms a submission after 10k lines in the bench's first minute, against 0.2 ms.
   */
  async findDuplicatesMany(
    em: EntityManager,
    rows: readonly {
      candidate: number;
      sequence: number;
      patientPseudonym: string;
      providerId: string;
      system: string;
      code: string;
      servicedDate: string;
      except?: string;
    }[],
  ): Promise<{ candidate: number; sequence: number; claim_id: string }[]> {
    if (rows.length === 0) return [];
    return em.query(
      `SELECT t.cand AS candidate, t.s AS sequence, m.claim_id
         FROM unnest($1::int[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::date[], $8::uuid[])
              AS t(cand, s, pat, prov, sy, co, d, ex)
        CROSS JOIN LATERAL (
          SELECT l.claim_id FROM claim_lines l JOIN claims c ON c.id = l.claim_id
           WHERE l.patient_pseudonym = t.pat AND l.provider_id = t.prov AND l.code = t.co AND l.system = t.sy
             AND l.serviced_date = t.d AND c.status <> ALL($9::text[]) AND (t.ex IS NULL OR c.id <> t.ex)
          OFFSET 0) m
        ORDER BY t.cand, t.s`,
      [
        rows.map((r) => r.candidate),
        rows.map((r) => r.sequence),
        rows.map((r) => r.patientPseudonym),
        rows.map((r) => r.providerId),
        rows.map((r) => r.system),
        rows.map((r) => r.code),
        rows.map((r) => r.servicedDate),
        rows.map((r) => r.except ?? null),
        NEVER_PAID,
      ],
    );
  }

  async find(
    id: string,
    em: EntityManager = this.dataSource.manager,
    forUpdate = false,
  ): Promise<ClaimRow | undefined> {
    const rows: ClaimRow[] = await em.query(
      `SELECT ${CLAIM_COLUMNS} FROM claims c WHERE c.id = $1 ${forUpdate ? 'FOR UPDATE' : ''}`,
      [id],
    );
    return rows[0];
  }

  /** The submission exactly as received and its commitment salt (null for claims stored before they were kept). */
  async submission(id: string): Promise<{ insurer_id: string; submission: string; salt: Buffer | null } | undefined> {
    const rows: { insurer_id: string; submission: string; salt: Buffer | null }[] = await this.dataSource.query(
      `SELECT insurer_id, submission, submission_salt AS salt FROM claims WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  async list(f: ClaimListFilter): Promise<ClaimRow[]> {
    return this.dataSource.query(
      `SELECT ${CLAIM_COLUMNS} FROM claims c
        WHERE c.insurer_id = $1
          AND ($2::text[] IS NULL OR c.status = ANY($2::text[]))
          AND ($3::timestamptz IS NULL OR c.submitted_at >= $3)
          AND ($4::timestamptz IS NULL OR c.submitted_at < $4)
          AND ($5::timestamptz IS NULL OR (c.submitted_at, c.id) < ($5, $6::uuid))
        ORDER BY c.submitted_at DESC, c.id DESC
        LIMIT $7`,
      [
        f.insurerId,
        f.statuses ?? null,
        f.submittedFrom ?? null,
        f.submittedTo ?? null,
        f.after?.submittedAt ?? null,
        f.after?.id ?? null,
        f.limit,
      ],
    );
  }

  async timeline(claimId: string): Promise<ClaimEventRow[]> {
    return this.dataSource.query(
      `SELECT e.event_id, e.type, e.time, e.envelope, e.ledger_index::text AS ledger_index, e.leaf_hash,
              e.tree_size::text AS tree_size, e.inclusion_proof, e.checkpoint, e.data_salt
         FROM claim_events e WHERE e.claim_id = $1 ORDER BY e.time NULLS LAST, e.event_id`,
      [claimId],
    );
  }

  /** Records an event in the claim's timeline (idempotent: the anchor half may already be there). */
  async recordEvent(em: EntityManager, event: CloudEvent): Promise<void> {
    await em.query(
      `INSERT INTO claim_events (event_id, claim_id, type, time, envelope) VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT (event_id) DO UPDATE SET type = EXCLUDED.type, time = EXCLUDED.time, envelope = EXCLUDED.envelope`,
      [event.id, event.subject, event.type, event.time, JSON.stringify(event)],
    );
  }

  /**
   * Of these ids, the claims this service has (an event about anything else is not ours to track), locked for update
   * until commit in one order: two replicas' batches then cannot deadlock on the claims they both update. Returns
   * when each was submitted, by id (what a payment's end-to-end latency is measured from).
   */
  async lockExisting(em: EntityManager, ids: readonly string[]): Promise<Map<string, Date>> {
    if (ids.length === 0) return new Map();
    const rows: { id: string; submitted_at: Date }[] = await em.query(
      `SELECT id::text, submitted_at FROM claims WHERE id = ANY($1::uuid[]) ORDER BY id FOR NO KEY UPDATE`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.submitted_at]));
  }

  /** recordEvent for many events in one statement (each event id at most once). */
  async recordEvents(em: EntityManager, events: readonly CloudEvent[]): Promise<void> {
    if (events.length === 0) return;
    await em.query(
      `INSERT INTO claim_events (event_id, claim_id, type, time, envelope)
       SELECT (e->>'id')::uuid, (e->>'subject')::uuid, e->>'type', (e->>'time')::timestamptz, e
         FROM jsonb_array_elements($1::jsonb) AS e
       ON CONFLICT (event_id) DO UPDATE SET type = EXCLUDED.type, time = EXCLUDED.time, envelope = EXCLUDED.envelope`,
      [JSON.stringify(uniqueBy(events, (e) => e.id))],
    );
  }

  /**
   * The ledger's word that these events are recorded (leaf, tree size, inclusion proof and checkpoint), in one
   * statement; an anchor may arrive before the event it anchors, so each row is created or completed. One notice
   * covers many claims (ADR 23): should the database refuse the statement for good (a data or constraint error, which
   * one entry's value may cause), the entries are written one by one, each behind a savepoint, and an entry refused
   * alone is left out with an ALERT, so no claim's receipt is lost to another's. Returns the event ids left out.
   */
  async recordAnchors(em: EntityManager, anchors: readonly ClaimAnchor[]): Promise<string[]> {
    if (anchors.length === 0) return [];
    const rows = uniqueBy(anchors, (a) => a.eventId);
    try {
      await savepointed(em, 'anchors', () => this.insertAnchors(em, rows));
      return [];
    } catch (error) {
      if (classifyFailure(error) !== 'permanent') throw error;
    }
    const refused: string[] = [];
    for (const row of rows) {
      try {
        await savepointed(em, 'anchor', () => this.insertAnchors(em, [row]));
      } catch (error) {
        if (classifyFailure(error) !== 'permanent') throw error;
        this.logger.error(`ALERT: anchor of ${row.eventId} (claim ${row.claimId}) refused: ${String(error)}`);
        refused.push(row.eventId);
      }
    }
    return refused;
  }

  private async insertAnchors(em: EntityManager, rows: readonly ClaimAnchor[]): Promise<void> {
    await em.query(
      `INSERT INTO claim_events (event_id, claim_id, type, ledger_index, leaf_hash, tree_size, inclusion_proof, checkpoint,
                                 data_salt)
       SELECT a."eventId", a."claimId", a."eventType", a."leafIndex", a."leafHash", a."treeSize", a."inclusionProof",
              a.checkpoint, a."dataSalt"
         FROM jsonb_to_recordset($1::jsonb) AS a("eventId" uuid, "claimId" uuid, "eventType" text, "leafIndex" bigint,
              "leafHash" text, "treeSize" bigint, "inclusionProof" jsonb, checkpoint text, "dataSalt" text)
       ON CONFLICT (event_id) DO UPDATE
         SET ledger_index = EXCLUDED.ledger_index, leaf_hash = EXCLUDED.leaf_hash, tree_size = EXCLUDED.tree_size,
             inclusion_proof = EXCLUDED.inclusion_proof, checkpoint = EXCLUDED.checkpoint,
             data_salt = EXCLUDED.data_salt`,
      [JSON.stringify(rows)],
    );
  }

  async advance(
    em: EntityManager,
    claimId: string,
    status: ClaimStatus,
    extra: { payable?: string; paid?: string; decision?: string; cancelReason?: string } = {},
  ): Promise<void> {
    await this.advanceMany(em, [{ claimId, status, ...extra }]);
  }

  /**
   * (This and setPaymentStates also name the claims as an array: Postgres expects 100 rows of any jsonb_to_recordset,
   * and while claims is small, as in a fresh database, it then hashed the whole table for a batch of a few claims
   * and kept that plan; the array makes it fetch them by key whatever it expects. 3 ms a batch in the bench's first
   * minute, docs/performance.md.)
   *
   * `advance` for many claims in one statement, each with the advances of a batch folded in order: the first status
   * of the highest rank (a status moves only up), and the last value given for each of payable, paid and decision.
   */
  async advanceMany(em: EntityManager, advances: readonly ClaimAdvance[]): Promise<void> {
    const folded = new Map<string, ClaimAdvance>();
    for (const a of advances) {
      const seen = folded.get(a.claimId);
      if (!seen) {
        folded.set(a.claimId, { ...a });
        continue;
      }
      if (STATUS_RANK[a.status] > STATUS_RANK[seen.status]) seen.status = a.status;
      seen.payable = a.payable ?? seen.payable;
      seen.paid = a.paid ?? seen.paid;
      seen.decision = a.decision ?? seen.decision;
      seen.cancelReason = a.cancelReason ?? seen.cancelReason;
    }
    if (folded.size === 0) return;
    const rows = [...folded.values()].map((a) => ({
      ...a,
      lower: Object.entries(STATUS_RANK)
        .filter(([, rank]) => rank < STATUS_RANK[a.status])
        .map(([s]) => s),
    }));
    await em.query(
      `UPDATE claims c
          SET status = CASE WHEN c.status = ANY(u.lower) THEN u.status ELSE c.status END,
              payable = COALESCE(u.payable, c.payable),
              paid = COALESCE(u.paid, c.paid),
              decision = COALESCE(u.decision, c.decision),
              cancel_reason = COALESCE(u."cancelReason", c.cancel_reason),
              updated_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS u("claimId" uuid, status text, lower text[], payable numeric,
              paid numeric, decision text, "cancelReason" text)
        WHERE c.id = u."claimId" AND c.id = ANY($2::uuid[])`,
      [JSON.stringify(rows), [...folded.keys()]],
    );
  }

  /**
   * The payment events' part of the status, in one statement, as if each were applied in order: a payment status
   * replaces the current one unless a payment event later by time was applied already (the four payment topics
   * arrive in any order), and the paid amount is the first one known. Per claim that is the event latest by time
   * (the last of equals), so each claim's events fold into one row first.
   */
  async setPaymentStates(
    em: EntityManager,
    events: readonly { claimId: string; status: (typeof PAYMENT_STATUSES)[number]; at: Date; paid?: string }[],
  ): Promise<void> {
    if (events.length === 0) return;
    const folded = new Map<string, { claimId: string; status: string; at: Date; paid: string | null }>();
    for (const e of events) {
      const seen = folded.get(e.claimId);
      if (!seen) folded.set(e.claimId, { claimId: e.claimId, status: e.status, at: e.at, paid: e.paid ?? null });
      else {
        if (e.at >= seen.at) Object.assign(seen, { status: e.status, at: e.at });
        seen.paid ??= e.paid ?? null;
      }
    }
    const replaceable = Object.entries(STATUS_RANK)
      .filter(([s, rank]) => rank < STATUS_RANK.paid || PAYMENT_STATUSES.includes(s as ClaimStatus))
      .map(([s]) => s);
    await em.query(
      `UPDATE claims c
          SET status = CASE WHEN c.status = ANY($2::text[]) AND (c.payment_event_at IS NULL OR c.payment_event_at <= u.at)
                            THEN u.status ELSE c.status END,
              payment_event_at = GREATEST(c.payment_event_at, u.at),
              paid = COALESCE(c.paid, u.paid),
              updated_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS u("claimId" uuid, status text, at timestamptz, paid numeric)
        WHERE c.id = u."claimId" AND c.id = ANY($3::uuid[])`,
      [JSON.stringify([...folded.values()]), replaceable, [...folded.keys()]],
    );
  }
}
