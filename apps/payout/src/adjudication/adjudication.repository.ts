import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { lockInOrder } from '@claimchain/messaging';
import {
  ClaimCancelledV1,
  ClaimSubmittedV1,
  CloudEvent,
  LedgerAnchoredV1,
  TreatmentVerifiedV1,
} from '@claimchain/wire';

/** Where the ledger says it recorded an event (a `ledger.anchored.v1` as stored). */
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

/** A claim decided for payment: what a cancellation that came too late is refused with. */
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
 * `verification_anchors` (the anchors of verifications and of claims' submissions alike, by event id), `cancellations`), and the decisions and payouts it writes (`adjudications`, `payouts`).
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
   * received (the replay command proves it on the ledger).
   */
  async rememberFacts(
    em: EntityManager,
    f: {
      claims: CloudEvent<ClaimSubmittedV1>[];
      verifications: CloudEvent<TreatmentVerifiedV1>[];
      anchors: LedgerAnchoredV1[];
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

  /** The leaf salts of the claim.submitted and claim.adjudicated events, which `npm run replay` needs (ADR 16). */
  async rememberSalts(em: EntityManager, anchors: readonly LedgerAnchoredV1[]): Promise<void> {
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
      [event.data.claimId, event.id, event.data.cancelledAt],
    );
  }

  /**
   * Of these claims (locked by the caller), those already decided for payment, which a cancellation can no longer
   * stop: an adjudication other than `pended`, or a pended one a reviewer decided since. With the decision, the
   * payable amount and the payout as it stands. A claim pended and not yet reviewed is not in the answer.
   */
  async decidedForPayment(em: EntityManager, claimIds: readonly string[]): Promise<Map<string, DecidedClaim>> {
    if (claimIds.length === 0) return new Map();
    const rows: ({ claim_id: string } & DecidedClaim)[] = await em.query(
      `SELECT a.claim_id::text, COALESCE(r.outcome, a.decision) AS decision,
              COALESCE(r.payable, a.payable)::text AS payable, c.currency,
              CASE WHEN p.id IS NULL THEN NULL
                   ELSE json_build_object('payoutId', p.id, 'amount', p.amount::text, 'status', p.status) END AS payout
         FROM adjudications a
         JOIN claims c ON c.claim_id = a.claim_id
         LEFT JOIN review_decisions r ON r.claim_id = a.claim_id
         LEFT JOIN payouts p ON p.claim_id = a.claim_id
        WHERE a.claim_id = ANY($1::uuid[]) AND (a.decision <> 'pended' OR r.claim_id IS NOT NULL)`,
      [claimIds],
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
