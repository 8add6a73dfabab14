import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { EventSigner, lockInOrder, outboxInsert, RetentionRule } from '@claimchain/messaging';
import { Attestation, ClaimSubmittedV1, CloudEvent, TopicName } from '@claimchain/wire';
import { PerformedTreatment } from './confirm-treatment/treatment-matcher';
import { ConfirmationReason, EndReason, superseded, WITHDRAWN } from './confirmation-reasons';

export interface KnownClaim {
  claim_id: string;
  insurer_id: string;
  provider_id: string;
  items: ClaimSubmittedV1['items'];
  /** Its claims.submitted event's `correlationid` (null for claims stored before it was kept). */
  correlation_id: string | null;
  /** Set while its claims.submitted event is being handled: that event caused what is decided meanwhile. */
  submitted_event_id?: string;
}

/**
 * What became of a confirmation. `pending` waits for its claim; `verified` and `rejected` decided it; the rest ended
 * it without deciding anything: `discarded` (the claim names another provider), `expired` (the claim never arrived
 * in time), `cancelled` (the insurer cancelled the claim), `withdrawn` (its provider withdrew it while pending, or
 * withdrew its verification and payout stopped the payment); `superseded` was rejected and then corrected by its
 * provider. A verified one its provider withdraws is `withdrawal-requested` until payout answers, and
 * `withdrawal-refused` when payout had decided the claim already: both still decide the claim (ADR 22).
 */
export const CONFIRMATION_OUTCOMES = [
  'pending',
  'verified',
  'rejected',
  'discarded',
  'expired',
  'cancelled',
  'superseded',
  'withdrawn',
  'withdrawal-requested',
  'withdrawal-refused',
] as const;
export type ConfirmationOutcome = (typeof CONFIRMATION_OUTCOMES)[number];

export interface NewConfirmation {
  id: string;
  claimId: string;
  providerId: string;
  outcome: ConfirmationOutcome;
  performed: unknown;
  reasons: unknown;
  attestation?: Attestation;
  attestationHash?: string;
  /** The rejected confirmation this one corrects. */
  supersedes?: string;
}

export interface ConfirmationRow {
  id: string;
  claim_id: string;
  provider_id: string;
  outcome: ConfirmationOutcome;
  performed: PerformedTreatment[];
  reasons: ConfirmationReason[];
  created_at: Date;
  decided_at: Date | null;
  attestation: Attestation | null;
  attestation_hash: string | null;
  supersedes: string | null;
}

/** A pending confirmation of claims that are arriving, and whether that claim was already cancelled. */
export type PendingRow = ConfirmationRow & { cancelled: boolean };

/** Where each of a batch's claims stands, read under the claims' locks (confirmationContext). */
export interface ConfirmationContext {
  claims: Map<string, KnownClaim>;
  /** Claim id → its deciding confirmation (verified, rejected, cancelled with the claim, or withdrawing: DECIDING). */
  deciding: Map<string, { id: string; outcome: ConfirmationOutcome }>;
  /** Claim id → providers with a confirmation pending for it. */
  pendingBy: Map<string, Set<string>>;
  cancelled: Set<string>;
}

/** The advisory lock a claim is decided under (`<prefix><claim id>`): see lockClaimIds. */
const CLAIM_LOCK_PREFIX = 'confirm:';
/** Taken with try-lock by the expiry sweep, so it skips a confirmation whose claim is being decided right now. */
export const CLAIM_TRY_LOCK = `pg_try_advisory_xact_lock(hashtext('${CLAIM_LOCK_PREFIX}' || claim_id::text))`;

/** The outcomes that decide a claim (one per claim, the partial unique index `confirmations_deciding`). */
const DECIDING = `('verified', 'rejected', 'cancelled', 'withdrawal-requested', 'withdrawal-refused')`;

const ROW = `id::text, claim_id::text, provider_id, outcome, performed, reasons, created_at, decided_at, attestation,
  attestation_hash, supersedes::text`;

/**
 * Confirmations that ended having published nothing (discarded, expired, and withdrawn while pending) stay readable
 * by their provider for `keepMs` after they ended, then go. One withdrawn after it verified its claim is kept, as
 * decided ones are: its verification and its withdrawal are on the ledger, and the claim's history refers to it.
 */
export function endedConfirmationsRetention(keepMs: number): RetentionRule {
  return {
    name: 'ended-confirmations',
    table: 'confirmations',
    column: 'decided_at',
    keepMs,
    where: `outcome IN ('discarded', 'expired') OR (outcome = 'withdrawn' AND withdrawal_event_id IS NULL)`,
  };
}

/** All SQL on treatment-verification's tables. */
@Injectable()
export class ConfirmationsRepository {
  constructor(private readonly signer: EventSigner) {}

  /**
   * Serialises the ways a claim gets decided (a confirmation POST, the claim's arrival, its cancellation, a
   * withdrawal and payout's answers), which may race when the provider confirms just as the claim arrives: in one
   * statement and one global order, so two batches cannot deadlock.
   */
  async lockClaimIds(em: EntityManager, claimIds: readonly string[]): Promise<void> {
    await lockInOrder(
      em,
      claimIds.map((id) => `${CLAIM_LOCK_PREFIX}${id}`),
    );
  }

  /** How many confirmations each of these providers has waiting for their claims. */
  async pendingCounts(em: EntityManager, providerIds: readonly string[]): Promise<Map<string, number>> {
    if (providerIds.length === 0) return new Map();
    const rows: { provider_id: string; n: number }[] = await em.query(
      `SELECT provider_id, count(*)::int AS n FROM confirmations
        WHERE outcome = 'pending' AND provider_id = ANY($1::text[]) GROUP BY provider_id`,
      [providerIds],
    );
    return new Map(rows.map((r) => [r.provider_id, r.n]));
  }

  /** The claims' lines, to match confirmations against, in one statement. */
  async rememberClaims(
    em: EntityManager,
    claims: readonly (ClaimSubmittedV1 & { correlationId: string })[],
  ): Promise<void> {
    if (claims.length === 0) return;
    await em.query(
      `INSERT INTO claims (claim_id, insurer_id, provider_id, items, correlation_id)
       SELECT c."claimId", c."insurerId", c."providerId", c.items, c."correlationId"
         FROM jsonb_to_recordset($1::jsonb)
           AS c("claimId" uuid, "insurerId" text, "providerId" text, items jsonb, "correlationId" text)
       ON CONFLICT (claim_id) DO NOTHING`,
      [
        JSON.stringify(
          claims.map(({ claimId, insurerId, providerId, items, correlationId }) => ({
            claimId,
            insurerId,
            providerId,
            items,
            correlationId,
          })),
        ),
      ],
    );
  }

  /**
   * What deciding these claims' confirmations needs, in one statement: each claim this service knows (its lines),
   * whether it has a deciding confirmation, which providers have one pending, and whether it was cancelled. Call it
   * after locking the claim ids, so the answer cannot change before the caller's transaction commits.
   */
  async confirmationContext(em: EntityManager, claimIds: readonly string[]): Promise<ConfirmationContext> {
    const context: ConfirmationContext = {
      claims: new Map(),
      deciding: new Map(),
      pendingBy: new Map(),
      cancelled: new Set(),
    };
    if (claimIds.length === 0) return context;
    const rows: (Partial<KnownClaim> & {
      id: string;
      deciding: { id: string; outcome: ConfirmationOutcome } | null;
      cancelled: boolean;
      pending_by: string[];
    })[] = await em.query(
      `SELECT ids.id::text AS id, c.claim_id::text AS claim_id, c.insurer_id, c.provider_id, c.items, c.correlation_id,
              (SELECT jsonb_build_object('id', f.id, 'outcome', f.outcome) FROM confirmations f
                WHERE f.claim_id = ids.id AND f.outcome IN ${DECIDING}) AS deciding,
              EXISTS (SELECT 1 FROM cancelled_claims x WHERE x.claim_id = ids.id AND x.refused_at IS NULL) AS cancelled,
              ARRAY(SELECT f.provider_id FROM confirmations f
                     WHERE f.claim_id = ids.id AND f.outcome = 'pending') AS pending_by
         FROM unnest($1::uuid[]) AS ids(id) LEFT JOIN claims c ON c.claim_id = ids.id`,
      [claimIds],
    );
    for (const row of rows) {
      if (row.claim_id) context.claims.set(row.id, row as KnownClaim);
      if (row.deciding) context.deciding.set(row.id, row.deciding);
      if (row.cancelled) context.cancelled.add(row.id);
      context.pendingBy.set(row.id, new Set(row.pending_by));
    }
    return context;
  }

  async findConfirmation(em: EntityManager, id: string): Promise<ConfirmationRow | undefined> {
    const rows: ConfirmationRow[] = await em.query(`SELECT ${ROW} FROM confirmations WHERE id = $1`, [id]);
    return rows[0];
  }

  /**
   * One provider's confirmations, newest first, filtered by outcome and by when they were posted, after the keyset
   * cursor `before` (a confirmation id: ids are UUIDv7, so their order is the posting order).
   */
  async listConfirmations(
    em: EntityManager,
    f: {
      providerId: string;
      outcomes?: readonly ConfirmationOutcome[];
      postedFrom?: Date;
      postedTo?: Date;
      before?: string;
      limit: number;
    },
  ): Promise<ConfirmationRow[]> {
    return em.query(
      `SELECT ${ROW} FROM confirmations
        WHERE provider_id = $1
          AND ($2::text[] IS NULL OR outcome = ANY($2::text[]))
          AND ($3::timestamptz IS NULL OR created_at >= $3)
          AND ($4::timestamptz IS NULL OR created_at < $4)
          AND ($5::uuid IS NULL OR id < $5)
        ORDER BY id DESC LIMIT $6`,
      [f.providerId, f.outcomes ?? null, f.postedFrom ?? null, f.postedTo ?? null, f.before ?? null, f.limit],
    );
  }

  /**
   * The claims naming this provider that still wait for its confirmation (none decides them, and they were not
   * cancelled), oldest first, after the keyset cursor `after` (a claim id: claim-intake's ids are UUIDv7).
   */
  async awaitingConfirmation(
    em: EntityManager,
    f: { providerId: string; after?: string; limit: number },
  ): Promise<(KnownClaim & { received_at: Date })[]> {
    return em.query(
      `SELECT c.claim_id::text, c.insurer_id, c.provider_id, c.items, c.received_at
         FROM claims c
        WHERE c.provider_id = $1 AND ($2::uuid IS NULL OR c.claim_id > $2)
          AND NOT EXISTS (SELECT 1 FROM confirmations f WHERE f.claim_id = c.claim_id AND f.outcome IN ${DECIDING})
          AND NOT EXISTS (SELECT 1 FROM cancelled_claims x WHERE x.claim_id = c.claim_id AND x.refused_at IS NULL)
        ORDER BY c.claim_id LIMIT $3`,
      [f.providerId, f.after ?? null, f.limit],
    );
  }

  /**
   * Records confirmations and the events that announce their outcomes in one statement (the outbox write is a CTE
   * of it); a pending one has no decision time yet.
   */
  async insertConfirmations(
    em: EntityManager,
    confirmations: readonly NewConfirmation[],
    events: readonly { topic: TopicName; event: CloudEvent }[],
  ): Promise<void> {
    if (confirmations.length === 0) return;
    const outbox = events.length > 0 ? outboxInsert(events, this.signer, 2) : undefined;
    await em.query(
      `WITH inserted AS (
         INSERT INTO confirmations
           (id, claim_id, provider_id, outcome, performed, reasons, decided_at, attestation, attestation_hash,
            supersedes)
         SELECT f.id, f."claimId", f."providerId", f.outcome, f.performed, f.reasons,
                CASE WHEN f.outcome = 'pending' THEN NULL ELSE now() END, f.attestation, f."attestationHash",
                f.supersedes
           FROM jsonb_to_recordset($1::jsonb)
             AS f(id uuid, "claimId" uuid, "providerId" text, outcome text, performed jsonb, reasons jsonb,
                  attestation jsonb, "attestationHash" text, supersedes uuid)
         RETURNING 1)
       ${outbox ? `, ${outbox.cte} ${outbox.notify}` : 'SELECT count(*) FROM inserted'}`,
      [JSON.stringify(confirmations), ...(outbox?.params ?? [])],
    );
  }

  /**
   * Marks rejected confirmations their providers corrected as `superseded`, each naming its correction, in one
   * statement; before the corrections are inserted, which the one deciding row per claim requires.
   */
  async supersede(em: EntityManager, rows: readonly { id: string; supersededBy: string }[]): Promise<void> {
    if (rows.length === 0) return;
    await em.query(
      `UPDATE confirmations f SET outcome = 'superseded', reasons = f.reasons || jsonb_build_array(s.reason)
         FROM jsonb_to_recordset($1::jsonb) AS s(id uuid, reason jsonb)
        WHERE f.id = s.id AND f.outcome = 'rejected'`,
      [JSON.stringify(rows.map((r) => ({ id: r.id, reason: superseded(r.supersededBy) })))],
    );
  }

  /**
   * Withdraws the provider's confirmation if it is still pending; answers the row as it is afterwards (undefined if
   * it is not that provider's). Call it holding the claim's lock, so the claim's arrival cannot decide it meanwhile.
   */
  async withdraw(em: EntityManager, id: string, providerId: string): Promise<ConfirmationRow | undefined> {
    await em.query(
      `UPDATE confirmations SET outcome = 'withdrawn', reasons = $3::jsonb, decided_at = now()
        WHERE id = $1 AND provider_id = $2 AND outcome = 'pending'`,
      [id, providerId, JSON.stringify([WITHDRAWN])],
    );
    const row = await this.findConfirmation(em, id);
    return row?.provider_id === providerId ? row : undefined;
  }

  /**
   * Marks the provider's verified confirmation `withdrawal-requested`, naming the request's event, which the caller
   * writes to the outbox in the same transaction; the caller holds the claim's lock.
   */
  async requestWithdrawal(em: EntityManager, id: string, withdrawalEventId: string): Promise<ConfirmationRow> {
    await em.query(
      `UPDATE confirmations SET outcome = 'withdrawal-requested', withdrawal_event_id = $2
        WHERE id = $1 AND outcome = 'verified'`,
      [id, withdrawalEventId],
    );
    return (await this.findConfirmation(em, id))!;
  }

  /**
   * Payout's answers to withdrawals (ADR 22), in one statement: `withdrawn` when it stopped the payment (the claim
   * waits for a new confirmation), `withdrawal-refused` when it had decided the claim; each adds its reason. Only a
   * confirmation still `withdrawal-requested` moves, so a redelivered answer changes nothing.
   */
  async settleWithdrawals(
    em: EntityManager,
    answers: readonly { confirmationId: string; outcome: 'withdrawn' | 'withdrawal-refused'; reason: EndReason }[],
  ): Promise<void> {
    if (answers.length === 0) return;
    await em.query(
      `UPDATE confirmations f SET outcome = a.outcome, reasons = f.reasons || jsonb_build_array(a.reason),
              decided_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS a("confirmationId" uuid, outcome text, reason jsonb)
        WHERE f.id = a."confirmationId" AND f.outcome = 'withdrawal-requested'`,
      [JSON.stringify(answers)],
    );
  }

  /**
   * Adds `reason` to these confirmations while they are still `verified` (payout pended their claim for a reason the
   * provider can act on, ADR 26); their outcome does not change. Once only: a reason already there is not repeated.
   */
  async noteReasons(em: EntityManager, notes: readonly { confirmationId: string; reason: EndReason }[]): Promise<void> {
    if (notes.length === 0) return;
    await em.query(
      `UPDATE confirmations f SET reasons = f.reasons || jsonb_build_array(n.reason)
         FROM jsonb_to_recordset($1::jsonb) AS n("confirmationId" uuid, reason jsonb)
        WHERE f.id = n."confirmationId" AND f.outcome = 'verified'
          AND NOT f.reasons @> jsonb_build_array(jsonb_build_object('code', n.reason->>'code'))`,
      [JSON.stringify(notes)],
    );
  }

  /**
   * Payout refused these claims' cancellations: it had decided them, so their own provider's confirmation that the
   * cancellation made `cancelled` is `verified` again, with `reason` added. Remembered in `cancelled_claims`
   * (`refused_at`) too, so a cancellation consumed after its answer (another topic) no longer cancels it.
   */
  async cancellationsRefused(
    em: EntityManager,
    refused: readonly { claimId: string; decidedAt: string; reason: EndReason }[],
  ): Promise<void> {
    if (refused.length === 0) return;
    await em.query(
      `WITH remembered AS (
         INSERT INTO cancelled_claims (claim_id, cancelled_at, refused_at)
         SELECT x."claimId", x."decidedAt", x."decidedAt"
           FROM jsonb_to_recordset($1::jsonb) AS x("claimId" uuid, "decidedAt" timestamptz)
         ON CONFLICT (claim_id) DO UPDATE SET refused_at = EXCLUDED.refused_at)
       UPDATE confirmations f SET outcome = 'verified', reasons = f.reasons || jsonb_build_array(x.reason)
         FROM jsonb_to_recordset($1::jsonb) AS x("claimId" uuid, reason jsonb), claims c
        WHERE f.claim_id = x."claimId" AND c.claim_id = x."claimId" AND f.provider_id = c.provider_id
          AND f.outcome = 'cancelled'`,
      [JSON.stringify(refused)],
    );
  }

  /**
   * Stores the answers of requests whose Idempotency-Keys this transaction claimed (claimKeys, with a placeholder),
   * in one statement, so a retry with the key gets the same answer.
   */
  async answerKeys(
    em: EntityManager,
    answers: readonly { scope: string; key: string; status: number; body: unknown }[],
  ): Promise<void> {
    if (answers.length === 0) return;
    await em.query(
      `UPDATE idempotency_keys k SET status = a.status, body = a.body
         FROM jsonb_to_recordset($1::jsonb) AS a(scope text, key text, status int, body jsonb)
        WHERE k.scope = a.scope AND k.key = a.key`,
      [JSON.stringify(answers)],
    );
  }

  /** The confirmations still waiting for these claims, with whether each claim was cancelled, one query. */
  async pendingFor(em: EntityManager, claimIds: readonly string[]): Promise<PendingRow[]> {
    if (claimIds.length === 0) return [];
    return em.query(
      `SELECT ${ROW},
              EXISTS (SELECT 1 FROM cancelled_claims x WHERE x.claim_id = f.claim_id AND x.refused_at IS NULL)
                AS cancelled
         FROM confirmations f
        WHERE claim_id = ANY($1::uuid[]) AND outcome = 'pending'`,
      [claimIds],
    );
  }

  /** Ends pending confirmations (decided, discarded or cancelled), each with its reasons, in one statement. */
  async settlePending(
    em: EntityManager,
    settled: readonly { id: string; outcome: Exclude<ConfirmationOutcome, 'pending'>; reasons: unknown }[],
  ): Promise<void> {
    if (settled.length === 0) return;
    await em.query(
      `UPDATE confirmations f SET outcome = d.outcome, reasons = d.reasons, decided_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS d(id uuid, outcome text, reasons jsonb)
        WHERE f.id = d.id AND f.outcome = 'pending'`,
      [JSON.stringify(settled)],
    );
  }

  /**
   * Remembers that these claims were cancelled, and cancels the confirmation of each known claim's own provider
   * that is pending or verified (a rejected one stays rejected; one whose withdrawal payout is answering is left to
   * that answer), with `reason`. Other providers' rows are left as they are, so a cancellation tells nobody but the
   * claim's provider that the claim exists. A claim whose cancellation payout already refused (its answer consumed
   * first) is left alone: the conflict on `cancelled_claims` returns nothing.
   */
  async cancelClaims(
    em: EntityManager,
    cancellations: readonly { claimId: string; cancelledAt: string }[],
    reason: EndReason,
  ): Promise<void> {
    if (cancellations.length === 0) return;
    await em.query(
      `WITH remembered AS (
         INSERT INTO cancelled_claims (claim_id, cancelled_at)
         SELECT x."claimId", x."cancelledAt"
           FROM jsonb_to_recordset($1::jsonb) AS x("claimId" uuid, "cancelledAt" timestamptz)
         ON CONFLICT (claim_id) DO NOTHING
         RETURNING claim_id)
       UPDATE confirmations f SET outcome = 'cancelled', reasons = $2::jsonb, decided_at = now()
         FROM claims c, remembered r
        WHERE r.claim_id = c.claim_id AND f.claim_id = c.claim_id AND f.provider_id = c.provider_id
          AND f.outcome IN ('pending', 'verified')`,
      [JSON.stringify(cancellations), JSON.stringify([reason])],
    );
  }

  /**
   * Marks at most `limit` confirmations pending since before `cutoff` as expired, with `reason`; skips one whose
   * claim is being decided right now (its lock is taken), which the next sweep finds no longer pending. Returns how
   * many it expired.
   */
  async expirePending(em: EntityManager, cutoff: Date, limit: number, reason: EndReason): Promise<number> {
    const rows: { n: number }[] = await em.query(
      `WITH expired AS (
         UPDATE confirmations SET outcome = 'expired', reasons = $3::jsonb, decided_at = now()
          WHERE ctid = ANY(ARRAY(
            SELECT ctid FROM confirmations
             WHERE outcome = 'pending' AND created_at < $1 AND ${CLAIM_TRY_LOCK}
             LIMIT $2))
            AND outcome = 'pending'
          RETURNING 1)
       SELECT count(*)::int AS n FROM expired`,
      [cutoff, limit, JSON.stringify([reason])],
    );
    return rows[0].n;
  }
}
