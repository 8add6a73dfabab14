import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { lockInOrder } from '@claimchain/messaging';
import {
  Anchor,
  ClaimCancelledV1,
  ClaimSubmittedV1,
  CloudEvent,
  TreatmentVerifiedV1,
  claimIdOf,
  TreatmentWithdrawalRequestedV1,
} from '@claimchain/wire';

/** Where a held claim stands in the oldest-first list: its hold time in microseconds since the epoch, and its id. */
export interface HeldPosition {
  micros: string;
  claimId: string;
}

/** Where the ledger says it recorded an event (an entry of a `ledger.anchored.v2` as stored). */
export interface StoredAnchor {
  leaf_hash: string;
  leaf_index: string;
  tree_size: string;
  root_hash: string | null;
  inclusion_proof: string[] | null;
  checkpoint: string;
  /** The salt of a salted (v2) leaf, null for v1 (ADR 16). */
  data_salt: string | null;
}

/**
 * A claim whose facts are all in (its submission and verification, and the ledger's anchors of both) and which is
 * neither decided nor cancelled: what adjudication runs on.
 */
export interface PendingClaim {
  claim: {
    insurer_id: string;
    provider_id: string;
    currency: string;
    items: ClaimSubmittedV1['items'];
    coverage: string | null;
    patient_pseudonym: string | null;
  };
  verification: CloudEvent<TreatmentVerifiedV1>;
  anchor: StoredAnchor;
  /** The claims.submitted.v1 the claim's amounts and payee come from, exactly as received, and its anchor. */
  submitted: CloudEvent<ClaimSubmittedV1>;
  submittedAnchor: StoredAnchor;
}

/** A claim decided for payment: what a cancellation (or withdrawal) that came too late is refused with. */
export interface DecidedClaim {
  decision: 'approved' | 'partial' | 'denied';
  payable: string;
  currency: string;
  payout: {
    payoutId: string;
    amount: string;
    status: 'awaiting-rail' | 'released' | 'sent' | 'settled' | 'failed';
  } | null;
}

/** A claim decided for payment or pended for review: what a withdrawal that came too late is refused with. */
export type DecidedOrPendedClaim = Omit<DecidedClaim, 'decision'> & { decision: DecidedClaim['decision'] | 'pended' };

export interface AdjudicationRow {
  claimId: string;
  contractId: string;
  policyId: string | null;
  decision: string;
  payable: string;
  result: unknown;
}

export interface PayoutRow {
  id: string;
  claimId: string;
  payeeId: string;
  amount: string;
  currency: string;
  /** Its payouts.released event, and the claim's correlation: what its settlement names later (ADR 20). */
  releasedEventId?: string;
  correlationId?: string;
}

/**
 * SQL of the adjudication path: the claim lock, the facts it waits for (`claims`, `verifications`,
 * `verification_anchors` (the anchors of verifications and of claims' submissions alike, by event id), `cancellations`, `verification_withdrawals`), and the decisions and payouts it writes (`adjudications`, `payouts`).
 */
@Injectable()
export class AdjudicationRepository {
  /** Serialises everything that happens to one claim, across handlers running on different partitions. */
  async lockClaim(em: EntityManager, claimId: string): Promise<void> {
    await this.lockClaims(em, [claimId]);
  }

  /** lockClaim for many, in one statement and one global order, so two batches cannot deadlock. */
  async lockClaims(em: EntityManager, claimIds: readonly string[]): Promise<void> {
    await lockInOrder(
      em,
      claimIds.map((id) => `claim:${id}`),
    );
  }

  /**
   * A batch's facts, one statement per kind; a fact already held is kept. A claim is stored with its event as
   * received (the replay command proves it on the ledger). A verification its provider withdrew is never stored.
   */
  async rememberFacts(
    em: EntityManager,
    f: {
      claims: CloudEvent<ClaimSubmittedV1>[];
      verifications: CloudEvent<TreatmentVerifiedV1>[];
      anchors: Anchor[];
    },
  ): Promise<void> {
    if (f.claims.length > 0) {
      await em.query(
        `INSERT INTO claims
           (claim_id, insurer_id, provider_id, currency, items, coverage, patient_pseudonym, submitted_event)
         SELECT (e->'data'->>'claimId')::uuid, e->'data'->>'insurerId', e->'data'->>'providerId',
                e->'data'->>'currency', e->'data'->'items', e->'data'->>'coverage', e->'data'->>'patientPseudonym', e
           FROM jsonb_array_elements($1::jsonb) AS e
         ON CONFLICT (claim_id) DO NOTHING`,
        [JSON.stringify(f.claims)],
      );
    }
    if (f.verifications.length > 0) {
      await em.query(
        `INSERT INTO verifications (claim_id, event_id, envelope)
         SELECT (e->'data'->>'claimId')::uuid, (e->>'id')::uuid, e FROM jsonb_array_elements($1::jsonb) AS e
          WHERE NOT EXISTS (SELECT 1 FROM verification_withdrawals w
                             WHERE w.confirmation_id = (e->'data'->>'confirmationId')::uuid)
         ON CONFLICT DO NOTHING`,
        [JSON.stringify(f.verifications)],
      );
    }
    if (f.anchors.length > 0) {
      await em.query(
        `INSERT INTO verification_anchors
           (event_id, claim_id, leaf_index, leaf_hash, tree_size, checkpoint, root_hash, inclusion_proof, data_salt)
         SELECT a."eventId", a."eventSubject", a."leafIndex", a."leafHash", a."treeSize", a.checkpoint, a."rootHash",
                a."inclusionProof", a."dataSalt"
           FROM jsonb_to_recordset($1::jsonb) AS a("eventId" uuid, "eventSubject" uuid, "leafIndex" bigint,
                "leafHash" text, "treeSize" bigint, checkpoint text, "rootHash" text, "inclusionProof" jsonb,
                "dataSalt" text)
         ON CONFLICT DO NOTHING`,
        [JSON.stringify(f.anchors)],
      );
    }
  }

  /**
   * Claims that could not be decided for a reason of their own (ADR 23), each with why: held, the batch's other
   * claims proceed. Held again, a claim keeps its first time and counts the attempt.
   */
  async holdClaims(em: EntityManager, held: readonly { claimId: string; reason: string }[]): Promise<void> {
    if (held.length === 0) return;
    await em.query(
      `INSERT INTO held_claims (claim_id, reason)
       SELECT h."claimId", h.reason FROM jsonb_to_recordset($1::jsonb) AS h("claimId" uuid, reason text)
       ON CONFLICT (claim_id) DO UPDATE SET reason = EXCLUDED.reason, attempts = held_claims.attempts + 1`,
      [JSON.stringify(uniqueClaims(held))],
    );
  }

  /** Claims decided since they were held are no longer held. */
  async releaseHeld(em: EntityManager, claimIds: readonly string[]): Promise<void> {
    if (claimIds.length === 0) return;
    await em.query(`DELETE FROM held_claims WHERE claim_id = ANY($1::uuid[])`, [claimIds]);
  }

  /**
   * The claims held now, oldest first, at most `limit` of them: those after `after`, the position of a previous
   * page's last row (its `position`, exact to the microsecond, so a page never repeats or skips a row).
   */
  async heldClaims(
    em: EntityManager,
    { limit, after }: { limit: number; after?: HeldPosition },
  ): Promise<{ claimId: string; reason: string; heldAt: Date; attempts: number; position: HeldPosition }[]> {
    const rows: { claimId: string; reason: string; heldAt: Date; attempts: number; micros: string }[] = await em.query(
      `SELECT claim_id::text AS "claimId", reason, held_at AS "heldAt", attempts,
              (extract(epoch FROM held_at) * 1000000)::bigint::text AS micros
         FROM held_claims
        WHERE $2::bigint IS NULL
           OR (held_at, claim_id) > ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', $3::uuid)
        ORDER BY held_at, claim_id LIMIT $1`,
      [limit, after?.micros ?? null, after?.claimId ?? null],
    );
    return rows.map(({ micros, ...row }) => ({ ...row, position: { micros, claimId: row.claimId } }));
  }

  async countHeld(em: EntityManager): Promise<number> {
    const [{ n }]: { n: number }[] = await em.query(`SELECT count(*)::int AS n FROM held_claims`);
    return n;
  }

  /** The leaf salts of the claim.submitted and claim.adjudicated events, which `npm run replay` needs (ADR 16). */
  async rememberSalts(em: EntityManager, anchors: readonly Anchor[]): Promise<void> {
    const salted = anchors.filter((a) => a.dataSalt !== undefined);
    if (salted.length === 0) return;
    await em.query(
      `INSERT INTO event_salts (event_id, data_salt)
       SELECT a."eventId", a."dataSalt" FROM jsonb_to_recordset($1::jsonb) AS a("eventId" uuid, "dataSalt" text)
       ON CONFLICT DO NOTHING`,
      [JSON.stringify(salted.map(({ eventId, dataSalt }) => ({ eventId, dataSalt })))],
    );
  }

  /** A cancellation payout accepted (`stopped`): from then on nothing is decided or paid for the claim. */
  async rememberCancellation(em: EntityManager, event: CloudEvent<ClaimCancelledV1>): Promise<void> {
    await em.query(
      `INSERT INTO cancellations (claim_id, event_id, cancelled_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [claimIdOf(event), event.id, event.data.cancelledAt],
    );
  }

  /**
   * A verification its provider withdrew before the claim was decided (ADR 22): payout forgets it (the claim's one
   * `verifications` row is freed for the correction's) and never stores it if it arrives later.
   */
  async rememberWithdrawal(em: EntityManager, event: CloudEvent<TreatmentWithdrawalRequestedV1>): Promise<void> {
    const { confirmationId, claimId, requestedAt } = event.data;
    await em.query(
      `WITH remembered AS (
         INSERT INTO verification_withdrawals (confirmation_id, claim_id, withdrawal_event_id, withdrawn_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING)
       DELETE FROM verifications WHERE claim_id = $2 AND envelope->'data'->>'confirmationId' = $1::text`,
      [confirmationId, claimId, event.id, requestedAt],
    );
  }

  /**
   * Sets aside the claim's pended decision (ADR 25) if it was made on the verification this withdrawal names, no
   * reviewer has settled it and the insurer has not cancelled the claim: the decision moves from `adjudications` to
   * `set_aside_adjudications`, so the claim leaves the review queue and the correction's verification is decided
   * afresh. Its `claims.pended.v1` stays on the ledger. Call it before rememberWithdrawal, which forgets the
   * verification this reads. Answers whether it set the decision aside.
   */
  async setAsidePendedDecision(
    em: EntityManager,
    event: CloudEvent<TreatmentWithdrawalRequestedV1>,
    at: Date,
  ): Promise<boolean> {
    const { claimId, confirmationId } = event.data;
    const moved: unknown[] = await em.query(
      `WITH moved AS (
         DELETE FROM adjudications a
          USING verifications v
          WHERE a.claim_id = $1 AND a.decision = 'pended'
            AND v.claim_id = a.claim_id AND v.event_id::text = a.result->>'verifiedEventId'
            AND v.envelope->'data'->>'confirmationId' = $2::text
            AND NOT EXISTS (SELECT 1 FROM review_decisions r WHERE r.claim_id = a.claim_id)
            AND NOT EXISTS (SELECT 1 FROM cancellations x WHERE x.claim_id = a.claim_id)
         RETURNING a.*)
       INSERT INTO set_aside_adjudications
         (withdrawal_event_id, claim_id, contract_id, policy_id, decision, payable, result, created_at, set_aside_at)
       SELECT $3, claim_id, contract_id, policy_id, decision, payable, result, created_at, $4 FROM moved
       RETURNING claim_id`,
      [claimId, confirmationId, event.id, at],
    );
    return moved.length > 0;
  }

  /**
   * Of these claims (locked by the caller), those already decided for payment, which a cancellation can no longer
   * stop: an adjudication other than `pended`, or a pended one a reviewer decided since. With the decision, the
   * payable amount and the payout as it stands. A claim pended and not yet reviewed is not in the answer.
   */
  async decidedForPayment(em: EntityManager, claimIds: readonly string[]): Promise<Map<string, DecidedClaim>> {
    // Pended claims are left out, so every decision here is one of DecidedClaim's.
    return (await this.decided(em, claimIds, false)) as Map<string, DecidedClaim>;
  }

  /**
   * decidedForPayment, and claims pended for review as well (`decision: 'pended'`): a withdrawal sets such a
   * decision aside when it can (setAsidePendedDecision, ADR 25), else is refused with it.
   */
  async decidedAtAll(em: EntityManager, claimIds: readonly string[]): Promise<Map<string, DecidedOrPendedClaim>> {
    return this.decided(em, claimIds, true);
  }

  private async decided(
    em: EntityManager,
    claimIds: readonly string[],
    pendedToo: boolean,
  ): Promise<Map<string, DecidedOrPendedClaim>> {
    if (claimIds.length === 0) return new Map();
    const rows: ({ claim_id: string } & DecidedOrPendedClaim)[] = await em.query(
      `SELECT a.claim_id::text, COALESCE(r.outcome, a.decision) AS decision,
              COALESCE(r.payable, a.payable)::text AS payable, c.currency,
              CASE WHEN p.id IS NULL THEN NULL
                   ELSE json_build_object('payoutId', p.id, 'amount', p.amount::text, 'status', p.status) END AS payout
         FROM adjudications a
         JOIN claims c ON c.claim_id = a.claim_id
         LEFT JOIN review_decisions r ON r.claim_id = a.claim_id
         LEFT JOIN payouts p ON p.claim_id = a.claim_id
        WHERE a.claim_id = ANY($1::uuid[]) AND ($2 OR a.decision <> 'pended' OR r.claim_id IS NOT NULL)`,
      [claimIds, pendedToo],
    );
    return new Map(rows.map(({ claim_id, ...decided }) => [claim_id, decided]));
  }

  /**
   * Everything adjudication needs for these claims, in one query: only those whose three facts are in and that are
   * neither decided nor cancelled are in the answer.
   */
  async pendingMany(em: EntityManager, claimIds: readonly string[]): Promise<Map<string, PendingClaim>> {
    if (claimIds.length === 0) return new Map();
    const rows: ({ claim_id: string } & PendingClaim['claim'] & {
        envelope: PendingClaim['verification'];
        submitted_event: PendingClaim['submitted'];
        submitted_anchor: PendingClaim['submittedAnchor'];
      } & PendingClaim['anchor'])[] = await em.query(
      `SELECT c.claim_id::text, c.insurer_id, c.provider_id, c.currency, c.items, c.coverage, c.patient_pseudonym,
                v.envelope, a.leaf_hash, a.leaf_index::text, a.tree_size::text, a.root_hash, a.inclusion_proof,
                a.checkpoint, a.data_salt, c.submitted_event,
                jsonb_build_object('leaf_hash', s.leaf_hash, 'leaf_index', s.leaf_index::text,
                  'tree_size', s.tree_size::text, 'root_hash', s.root_hash, 'inclusion_proof', s.inclusion_proof,
                  'checkpoint', s.checkpoint, 'data_salt', s.data_salt) AS submitted_anchor
           FROM claims c
           JOIN verifications v ON v.claim_id = c.claim_id
           JOIN verification_anchors a ON a.event_id = v.event_id
           JOIN verification_anchors s ON s.event_id = (c.submitted_event->>'id')::uuid
          WHERE c.claim_id = ANY($1::uuid[])
            AND NOT EXISTS (SELECT 1 FROM adjudications d WHERE d.claim_id = c.claim_id)
            AND NOT EXISTS (SELECT 1 FROM cancellations x WHERE x.claim_id = c.claim_id)
            AND NOT EXISTS (SELECT 1 FROM verification_withdrawals w
                             WHERE w.confirmation_id = (v.envelope->'data'->>'confirmationId')::uuid)
          ORDER BY c.claim_id`,
      [claimIds],
    );
    return new Map(
      rows.map((r) => [
        r.claim_id,
        {
          claim: {
            insurer_id: r.insurer_id,
            provider_id: r.provider_id,
            currency: r.currency,
            items: r.items,
            coverage: r.coverage,
            patient_pseudonym: r.patient_pseudonym,
          },
          verification: r.envelope,
          anchor: {
            leaf_hash: r.leaf_hash,
            leaf_index: r.leaf_index,
            tree_size: r.tree_size,
            root_hash: r.root_hash,
            inclusion_proof: r.inclusion_proof,
            checkpoint: r.checkpoint,
            data_salt: r.data_salt,
          },
          submitted: r.submitted_event,
          submittedAnchor: r.submitted_anchor,
        },
      ]),
    );
  }

  /** Decisions, one statement for all: the primary key refuses a second decision for a claim. */
  async insertAdjudications(em: EntityManager, rows: readonly AdjudicationRow[]): Promise<void> {
    if (rows.length === 0) return;
    await em.query(
      `INSERT INTO adjudications (claim_id, contract_id, policy_id, decision, payable, result)
       SELECT a."claimId", a."contractId", a."policyId", a.decision, a.payable, a.result
         FROM jsonb_to_recordset($1::jsonb) AS a("claimId" uuid, "contractId" text, "policyId" uuid, decision text,
              payable numeric, result jsonb)`,
      [JSON.stringify(rows)],
    );
  }

  /** Payouts, one statement for all: the unique claim_id refuses a second payout for a claim. */
  async insertPayouts(em: EntityManager, rows: readonly PayoutRow[]): Promise<void> {
    if (rows.length === 0) return;
    await em.query(
      `INSERT INTO payouts (id, claim_id, payee_id, amount, currency, released_event_id, correlation_id)
       SELECT p.id, p."claimId", p."payeeId", p.amount, p.currency, p."releasedEventId", p."correlationId"
         FROM jsonb_to_recordset($1::jsonb)
           AS p(id uuid, "claimId" uuid, "payeeId" text, amount numeric, currency text, "releasedEventId" uuid,
                "correlationId" text)`,
      [JSON.stringify(rows)],
    );
  }
}

/** One row per claim (a statement must not touch one row twice): the last reason given. */
function uniqueClaims<T extends { claimId: string }>(rows: readonly T[]): T[] {
  return [...new Map(rows.map((r) => [r.claimId, r])).values()];
}
