import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { PaymentInstruction } from './payment-rail';

/** A payout due to (re)submission, with what choosing its rail needs. */
export interface DuePayout extends PaymentInstruction {
  status: 'awaiting-rail' | 'released' | 'sent';
  /** Attempts begun before this one (each is recorded before its rail is called). */
  attempts: number;
  /** The rail it was first put on (it stays there), or null before the first attempt. */
  rail: string | null;
  /** The insurer's registered webhook, if any. */
  endpoint: { url: string; secretCiphertext: Buffer } | null;
}

export interface SettledPayout extends PaymentInstruction {
  rail: string;
}

/** `awaiting-rail`: no rail is configured for its insurer (no webhook, no bank); it waits and is rechecked. */
export const PAYOUT_STATUSES = ['awaiting-rail', 'released', 'sent', 'settled', 'failed'] as const;
export type PayoutStatus = (typeof PAYOUT_STATUSES)[number];

/** A payout as ops see it (GET /v1/ops/payouts). */
export interface PayoutRow extends PaymentInstruction {
  status: PayoutStatus;
  rail: string | null;
  attempts: number;
  lastError: string | null;
  releasedAt: Date;
  nextAttemptAt: Date;
  failedAt: Date | null;
  settledAt: Date | null;
  retries: number;
}

const INSTRUCTION = `p.id AS "payoutId", p.claim_id AS "claimId", c.insurer_id AS "insurerId", p.payee_id AS "payeeId",
  p.amount::text AS amount, p.currency`;

/**
 * What a payout's later events carry on (ADR 20): its release as their cause, its claim's correlation. Null for
 * payouts released before they were kept.
 */
export interface PayoutCause {
  releasedEventId: string | null;
  correlationId: string | null;
}
const CAUSE = `p.released_event_id AS "releasedEventId", p.correlation_id AS "correlationId"`;

const PAYOUT_ROW = `${INSTRUCTION}, p.status, p.rail, p.attempts, p.last_error AS "lastError",
  p.released_at AS "releasedAt", p.next_attempt_at AS "nextAttemptAt", p.failed_at AS "failedAt",
  p.settled_at AS "settledAt", (SELECT count(*)::int FROM payout_retries r WHERE r.payout_id = p.id) AS retries`;

/**
 * SQL of the payment dispatcher, and of ops' view of payouts (listing them, retrying a failed one). All retry state (attempts, next_attempt_at, last_error, the rail) lives on the
 * payout row and changes in the transaction that holds its lock, so a restarted process carries on where the last
 * one stopped and two replicas never submit one payout at once.
 */
@Injectable()
export class PaymentDispatchRepository {
  /**
   * Payouts due now, locked for this transaction and skipped by concurrent dispatchers: released ones (first
   * submission or a retry after backoff), sent ones the rail has not reported settled by their next check, and ones
   * awaiting a rail, to look for one again.
   */
  /**
   * How long until the earliest payout is due (0 or less: one is due now), or undefined when none will ever be: one
   * index probe, outside any transaction, so an idle dispatcher opens none.
   */
  async msUntilDue(em: EntityManager): Promise<number | undefined> {
    const [{ ms }]: { ms: number | null }[] = await em.query(
      `SELECT (extract(epoch FROM min(next_attempt_at) - clock_timestamp()) * 1000)::float8 AS ms
         FROM payouts WHERE status IN ('awaiting-rail', 'released', 'sent')`,
    );
    return ms ?? undefined;
  }

  async duePayouts(em: EntityManager, limit: number): Promise<DuePayout[]> {
    const rows: (Omit<DuePayout, 'endpoint'> & { url: string | null; secretCiphertext: Buffer | null })[] =
      await em.query(
        `SELECT ${INSTRUCTION}, p.status, p.attempts, p.rail, e.url, e.secret_ciphertext AS "secretCiphertext"
           FROM payouts p
           JOIN claims c ON c.claim_id = p.claim_id
           LEFT JOIN payout_endpoints e ON e.insurer_id = c.insurer_id
          WHERE p.status IN ('awaiting-rail', 'released', 'sent') AND p.next_attempt_at <= now()
          ORDER BY p.next_attempt_at LIMIT $1
            FOR UPDATE OF p SKIP LOCKED`,
        [limit],
      );
    return rows.map(({ url, secretCiphertext, ...p }) => ({
      ...p,
      endpoint: url && secretCiphertext ? { url, secretCiphertext } : null,
    }));
  }

  /**
   * Attempts about to begin, committed before any rail is called: each payout's rail (kept if it had one), the
   * attempt counted, and the payout not due again for `leaseMs`, so no other dispatcher submits it meanwhile. If the
   * process dies before the outcome is recorded, the payout is due again after the lease, on the same rail.
   */
  async startAttempts(
    em: EntityManager,
    attempts: readonly { payoutId: string; rail: string }[],
    leaseMs: number,
  ): Promise<void> {
    if (attempts.length === 0) return;
    await em.query(
      `UPDATE payouts p SET rail = coalesce(p.rail, s.rail), attempts = p.attempts + 1, attempt_started_at = now(),
              status = CASE WHEN p.status = 'awaiting-rail' THEN 'released' ELSE p.status END,
              next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
         FROM jsonb_to_recordset($1::jsonb) AS s("payoutId" uuid, rail text)
        WHERE p.id = s."payoutId" AND p.status IN ('awaiting-rail', 'released', 'sent')`,
      [JSON.stringify(attempts), leaseMs],
    );
  }

  /** No rail for these payouts: they wait (`awaiting-rail`, with why) and are looked at again after `recheckMs`. */
  async markAwaitingRail(
    em: EntityManager,
    waiting: readonly { payoutId: string; reason: string }[],
    recheckMs: number,
  ): Promise<void> {
    if (waiting.length === 0) return;
    await em.query(
      `UPDATE payouts p SET status = 'awaiting-rail', last_error = s.reason,
              next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
         FROM jsonb_to_recordset($1::jsonb) AS s("payoutId" uuid, reason text)
        WHERE p.id = s."payoutId" AND p.status IN ('awaiting-rail', 'released') AND p.rail IS NULL`,
      [JSON.stringify(waiting), recheckMs],
    );
  }

  /** An insurer registered a webhook: its payouts awaiting a rail are due now. */
  async wakeAwaitingRail(em: EntityManager, insurerId: string): Promise<void> {
    await em.query(
      `UPDATE payouts p SET next_attempt_at = now()
         FROM claims c
        WHERE c.claim_id = p.claim_id AND c.insurer_id = $1 AND p.status = 'awaiting-rail'`,
      [insurerId],
    );
  }

  /** Accepted by their rails, in one statement: `sent`, and checked again after `recheckMs` unless settled first. */
  async markSent(
    em: EntityManager,
    sent: readonly { payoutId: string; reference: string }[],
    recheckMs: number,
  ): Promise<void> {
    if (sent.length === 0) return;
    await em.query(
      `UPDATE payouts p SET status = 'sent', rail_reference = s.reference,
              last_error = NULL, next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
         FROM jsonb_to_recordset($1::jsonb) AS s("payoutId" uuid, reference text)
        WHERE p.id = s."payoutId" AND p.status IN ('released', 'sent')`,
      [JSON.stringify(sent), recheckMs],
    );
  }

  /** A refused attempt (counted when it began): due again after `retryInMs`, on the rail it was recorded on. */
  async markRefused(em: EntityManager, p: { payoutId: string; error: string; retryInMs: number }): Promise<void> {
    await em.query(
      `UPDATE payouts SET last_error = $2, next_attempt_at = now() + make_interval(secs => $3::double precision / 1000)
        WHERE id = $1 AND status IN ('released', 'sent')`,
      [p.payoutId, p.error.slice(0, 1000), p.retryInMs],
    );
  }

  /** The last allowed attempt was refused: the payout ends failed and is no longer due. */
  async markFailed(
    em: EntityManager,
    p: { payoutId: string; error: string },
  ): Promise<({ attempts: number; failedAt: Date } & PayoutCause) | undefined> {
    const [rows]: [({ attempts: number; failedAt: Date } & PayoutCause)[], number] = await em.query(
      `UPDATE payouts p SET status = 'failed', last_error = $2, failed_at = now()
        WHERE id = $1 AND status = 'released'
        RETURNING attempts, failed_at AS "failedAt", ${CAUSE}`,
      [p.payoutId, p.error.slice(0, 1000)],
    );
    return rows[0];
  }

  /**
   * Moves a payout to settled, once; undefined if it is settled already. A rail may report before the submitting
   * transaction committed `sent`: the row is still `released` in this statement's snapshot, so it waits for that
   * transaction's row lock and then settles the committed row (matching on `sent` alone would miss it).
   */
  /**
   * Marks these payouts settled, in one statement; answers those that moved (a payout already settled, or reported
   * twice, moves once).
   */
  async markSettled(
    em: EntityManager,
    settlements: readonly { payoutId: string; reference: string; settledAt: Date }[],
  ): Promise<(SettledPayout & { settledAt: Date; reference: string } & PayoutCause)[]> {
    if (settlements.length === 0) return [];
    const [rows]: [(SettledPayout & { settledAt: Date; reference: string } & PayoutCause)[], number] = await em.query(
      `UPDATE payouts p SET status = 'settled', settled_at = s."settledAt",
              rail_reference = coalesce(p.rail_reference, s.reference)
         FROM claims c, jsonb_to_recordset($1::jsonb) AS s("payoutId" uuid, reference text, "settledAt" timestamptz)
        WHERE p.id = s."payoutId" AND p.status IN ('released', 'sent') AND c.claim_id = p.claim_id
        RETURNING ${INSTRUCTION}, coalesce(p.rail, 'unknown') AS rail, s."settledAt", s.reference, ${CAUSE}`,
      [JSON.stringify(settlements)],
    );
    return rows;
  }

  /** Payouts, newest first (ids are UUIDv7), optionally of one status, after the keyset cursor `before`. */
  async list(em: EntityManager, f: { status?: PayoutStatus; before?: string; limit: number }): Promise<PayoutRow[]> {
    return em.query(
      `SELECT ${PAYOUT_ROW}
         FROM payouts p JOIN claims c ON c.claim_id = p.claim_id
        WHERE ($1::text IS NULL OR p.status = $1) AND ($2::uuid IS NULL OR p.id < $2)
        ORDER BY p.id DESC LIMIT $3`,
      [f.status ?? null, f.before ?? null, f.limit],
    );
  }

  /** One payout, locked for this transaction (a retry must see the status the dispatcher last committed). */
  async findForUpdate(em: EntityManager, payoutId: string): Promise<PayoutRow | undefined> {
    const rows: PayoutRow[] = await em.query(
      `SELECT ${PAYOUT_ROW} FROM payouts p JOIN claims c ON c.claim_id = p.claim_id WHERE p.id = $1 FOR UPDATE OF p`,
      [payoutId],
    );
    return rows[0];
  }

  /**
   * A failed payout (locked by findForUpdate) back into the retry schedule: due now, with its attempts counted from
   * zero again, on the rail it was on (so a webhook payout is not moved to the bank); the retry is recorded with who
   * asked, why, and the failure it replaces. Undefined if the payout is not failed.
   */
  async requeueFailed(
    em: EntityManager,
    r: { retryId: string; payoutId: string; retriedBy: string; reason: string },
  ): Promise<{ retriedAt: Date } | undefined> {
    // INSERT … RETURNING answers its rows (UPDATE answers [rows, count]).
    const rows: { retriedAt: Date }[] = await em.query(
      `INSERT INTO payout_retries (id, payout_id, retried_by, reason, previous_attempts, previous_error, failed_at)
       SELECT $1, id, $3, $4, attempts, last_error, failed_at FROM payouts WHERE id = $2 AND status = 'failed'
       RETURNING retried_at AS "retriedAt"`,
      [r.retryId, r.payoutId, r.retriedBy, r.reason],
    );
    if (rows.length === 0) return undefined;
    await em.query(
      `UPDATE payouts SET status = 'released', attempts = 0, next_attempt_at = now(), failed_at = NULL
        WHERE id = $1 AND status = 'failed'`,
      [r.payoutId],
    );
    return rows[0];
  }
}
