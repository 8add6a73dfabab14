import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { lockInOrder } from '@claimchain/messaging';
import {
  ClaimCancelledV1,
  ClaimSubmittedV1,
  CloudEvent,
  LedgerAnchoredV1,
  TreatmentVerifiedV1,
} from '@claimchain/contracts';
import { ContractDefinition } from '../contracts/contract.definition';
import { PolicyTerms } from '../policies/plan-year';
import { Accumulators, Adjudication } from '../adjudication/adjudicate';

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
  anchor: {
    leaf_hash: string;
    leaf_index: string;
    tree_size: string;
    root_hash: string | null;
    inclusion_proof: string[] | null;
    checkpoint: string;
  };
}

export interface ContractRow {
  id: string;
  insurer_id: string;
  definition: ContractDefinition;
  published_at: Date;
}

export interface PolicyRow extends PolicyTerms {
  insurerId: string;
  coverageId: string;
  enrolledAt: Date;
}

export interface PendedClaimRow {
  claimId: string;
  insurerId: string;
  contractId: string;
  policyId: string | null;
  result: Adjudication & { verifiedEventId: string };
  pendedAt: Date;
  claim: PendingClaim['claim'];
  decided: boolean;
  cancelled: boolean;
}

export interface RemittanceRow {
  insurerId: string;
  providerId: string;
  patientPseudonym: string | null;
  /** The focal Coverage's id as the claim named it. */
  coverage: string | null;
  result: Adjudication;
  decidedAt: Date;
  paidAmount: string | null;
  paidAt: Date | null;
}

export interface CircuitRow {
  open: boolean;
  reason: string | null;
  changedBy: string | null;
  changedAt: Date;
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
}

export interface AccumulatorRow {
  planYear: string;
  deductibleMet: string;
  benefitPaid: string;
}

const POLICY_COLUMNS = `p.id, p.insurer_id AS "insurerId", p.coverage_id AS "coverageId", p.contract_id AS "contractId",
  p.member_pseudonym AS "memberPseudonym", to_char(p.period_start, 'YYYY-MM-DD') AS "start",
  to_char(p.period_end, 'YYYY-MM-DD') AS "end", p.enrolled_at AS "enrolledAt"`;

/** How policiesForCoverages keys its answer. */
export function coverageKey(insurerId: string, coverageId: string): string {
  return `${insurerId}\n${coverageId}`;
}

/** All SQL on payout's tables. */
@Injectable()
export class PayoutRepository {
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

  async insertContract(em: EntityManager, c: { id: string; definition: ContractDefinition }): Promise<boolean> {
    const rows: unknown[] = await em.query(
      `INSERT INTO contracts (id, insurer_id, name, version, definition) VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [c.id, c.definition.insurerId, c.definition.name, c.definition.version, JSON.stringify(c.definition)],
    );
    return rows.length > 0;
  }

  /** A contract the insurer may see: its own or the catch-all (`*`) one. */
  async findContract(em: EntityManager, id: string, insurerId: string): Promise<ContractRow | undefined> {
    const rows: ContractRow[] = await em.query(
      `SELECT id, insurer_id, definition, published_at FROM contracts WHERE id = $1 AND insurer_id IN ($2, '*')`,
      [id, insurerId],
    );
    return rows[0];
  }

  /** The insurer's own contracts, newest first. */
  async listContracts(em: EntityManager, insurerId: string, limit: number): Promise<ContractRow[]> {
    return em.query(
      `SELECT id, insurer_id, definition, published_at FROM contracts WHERE insurer_id = $1
        ORDER BY published_at DESC, id LIMIT $2`,
      [insurerId, limit],
    );
  }

  /** The insurer's newest contract, else the catch-all (`*`) one. */
  async contractFor(
    em: EntityManager,
    insurerId: string,
  ): Promise<{ id: string; definition: ContractDefinition } | undefined> {
    const rows: { id: string; definition: ContractDefinition }[] = await em.query(
      `SELECT id, definition FROM contracts WHERE insurer_id IN ($1, '*')
        ORDER BY (insurer_id = $1) DESC, published_at DESC LIMIT 1`,
      [insurerId],
    );
    return rows[0];
  }

  /** The claim's facts, and the event as received when there is one (the replay command proves it on the ledger). */
  async rememberClaim(em: EntityManager, c: ClaimSubmittedV1, event?: CloudEvent<ClaimSubmittedV1>): Promise<void> {
    await em.query(
      `INSERT INTO claims
         (claim_id, insurer_id, provider_id, currency, items, coverage, patient_pseudonym, submitted_event)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8::jsonb) ON CONFLICT (claim_id) DO NOTHING`,
      [
        c.claimId,
        c.insurerId,
        c.providerId,
        c.currency,
        JSON.stringify(c.items),
        c.coverage,
        c.patientPseudonym,
        event ? JSON.stringify(event) : null,
      ],
    );
  }

  async rememberVerification(em: EntityManager, event: CloudEvent<TreatmentVerifiedV1>): Promise<void> {
    await this.rememberFacts(em, { claims: [], verifications: [event], anchors: [] });
  }

  async rememberAnchor(em: EntityManager, a: LedgerAnchoredV1): Promise<void> {
    await this.rememberFacts(em, { claims: [], verifications: [], anchors: [a] });
  }

  /** rememberClaim, rememberVerification and rememberAnchor for a batch: one statement per kind. */
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
           (event_id, claim_id, leaf_index, leaf_hash, tree_size, checkpoint, root_hash, inclusion_proof)
         SELECT a."eventId", a."eventSubject", a."leafIndex", a."leafHash", a."treeSize", a.checkpoint, a."rootHash",
                a."inclusionProof"
           FROM jsonb_to_recordset($1::jsonb) AS a("eventId" uuid, "eventSubject" uuid, "leafIndex" bigint,
                "leafHash" text, "treeSize" bigint, checkpoint text, "rootHash" text, "inclusionProof" jsonb)
         ON CONFLICT DO NOTHING`,
        [JSON.stringify(f.anchors)],
      );
    }
  }

  async rememberCancellation(em: EntityManager, event: CloudEvent<ClaimCancelledV1>): Promise<void> {
    await em.query(
      `INSERT INTO cancellations (claim_id, event_id, cancelled_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [event.data.claimId, event.id, event.data.cancelledAt],
    );
  }

  /** Everything adjudication needs, or undefined while a fact is still missing or the claim is already decided or cancelled. */
  async pending(em: EntityManager, claimId: string): Promise<PendingClaim | undefined> {
    return (await this.pendingMany(em, [claimId])).get(claimId);
  }

  /** `pending` for many claims in one query: only those ready to adjudicate are in the answer. */
  async pendingMany(em: EntityManager, claimIds: readonly string[]): Promise<Map<string, PendingClaim>> {
    if (claimIds.length === 0) return new Map();
    const rows: ({ claim_id: string } & PendingClaim['claim'] & {
        envelope: PendingClaim['verification'];
      } & PendingClaim['anchor'])[] = await em.query(
      `SELECT c.claim_id::text, c.insurer_id, c.provider_id, c.currency, c.items, c.coverage, c.patient_pseudonym,
                v.envelope, a.leaf_hash, a.leaf_index::text, a.tree_size::text, a.root_hash, a.inclusion_proof,
                a.checkpoint
           FROM claims c
           JOIN verifications v ON v.claim_id = c.claim_id
           JOIN verification_anchors a ON a.event_id = v.event_id
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
          },
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

  /** Serialises enrolments on one coverage, so two overlapping policies cannot both be created. */
  async lockCoverage(em: EntityManager, insurerId: string, coverageId: string): Promise<void> {
    await em.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`coverage:${insurerId}\n${coverageId}`]);
  }

  async overlappingPolicy(
    em: EntityManager,
    p: { insurerId: string; coverageId: string; start: string; end: string },
  ): Promise<string | undefined> {
    const rows: { id: string }[] = await em.query(
      `SELECT id FROM policies WHERE insurer_id = $1 AND coverage_id = $2 AND period_start <= $4 AND period_end >= $3
        LIMIT 1`,
      [p.insurerId, p.coverageId, p.start, p.end],
    );
    return rows[0]?.id;
  }

  async insertPolicy(em: EntityManager, p: Omit<PolicyRow, 'enrolledAt'>): Promise<void> {
    await em.query(
      `INSERT INTO policies (id, insurer_id, coverage_id, contract_id, member_pseudonym, period_start, period_end)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [p.id, p.insurerId, p.coverageId, p.contractId, p.memberPseudonym, p.start, p.end],
    );
  }

  async findPolicy(em: EntityManager, id: string): Promise<PolicyRow | undefined> {
    const rows: PolicyRow[] = await em.query(`SELECT ${POLICY_COLUMNS} FROM policies p WHERE p.id = $1`, [id]);
    return rows[0];
  }

  /** The policies enrolled for each of these coverages, oldest period first, in one statement. */
  async policiesForCoverages(
    em: EntityManager,
    coverages: readonly { insurerId: string; coverageId: string }[],
  ): Promise<Map<string, PolicyRow[]>> {
    const found = new Map<string, PolicyRow[]>();
    const distinct = [...new Map(coverages.map((c) => [coverageKey(c.insurerId, c.coverageId), c])).values()];
    if (distinct.length === 0) return found;
    const rows: PolicyRow[] = await em.query(
      `SELECT ${POLICY_COLUMNS} FROM policies p
         JOIN unnest($1::text[], $2::text[]) AS k(insurer_id, coverage_id)
           ON p.insurer_id = k.insurer_id AND p.coverage_id = k.coverage_id
        ORDER BY p.period_start`,
      [distinct.map((c) => c.insurerId), distinct.map((c) => c.coverageId)],
    );
    for (const row of rows) {
      const key = coverageKey(row.insurerId, row.coverageId);
      found.set(key, [...(found.get(key) ?? []), row]);
    }
    return found;
  }

  /**
   * Serialises adjudication per policy: the row lock is held until the transaction that updates the policy's
   * accumulators commits, so two claims never both spend what is left of a deductible or annual limit.
   */
  async lockPolicy(em: EntityManager, policyId: string): Promise<void> {
    await em.query(`SELECT id FROM policies WHERE id = $1 FOR UPDATE`, [policyId]);
  }

  async accumulators(em: EntityManager, policyId: string): Promise<AccumulatorRow[]> {
    return em.query(
      `SELECT to_char(a.plan_year_start, 'YYYY-MM-DD') AS "planYear", a.deductible_met::text AS "deductibleMet",
              a.benefit_paid::text AS "benefitPaid"
         FROM policy_accumulators a WHERE a.policy_id = $1 ORDER BY a.plan_year_start`,
      [policyId],
    );
  }

  /** Writes the plan years' new totals; call only under lockPolicy. */
  async saveAccumulators(em: EntityManager, policyId: string, accumulators: Accumulators): Promise<void> {
    const years = Object.keys(accumulators);
    if (years.length === 0) return;
    await em.query(
      `INSERT INTO policy_accumulators (policy_id, plan_year_start, deductible_met, benefit_paid)
       SELECT $1, y, d, b FROM unnest($2::date[], $3::numeric[], $4::numeric[]) AS t(y, d, b)
       ON CONFLICT (policy_id, plan_year_start) DO UPDATE
         SET deductible_met = EXCLUDED.deductible_met, benefit_paid = EXCLUDED.benefit_paid, updated_at = now()`,
      [policyId, years, years.map((y) => accumulators[y].deductibleMet), years.map((y) => accumulators[y].benefitPaid)],
    );
  }

  /** Payouts, one statement for all: the unique claim_id refuses a second payout for a claim. */
  async insertPayouts(em: EntityManager, rows: readonly PayoutRow[]): Promise<void> {
    if (rows.length === 0) return;
    await em.query(
      `INSERT INTO payouts (id, claim_id, payee_id, amount, currency)
       SELECT p.id, p."claimId", p."payeeId", p.amount, p.currency
         FROM jsonb_to_recordset($1::jsonb) AS p(id uuid, "claimId" uuid, "payeeId" text, amount numeric, currency text)`,
      [JSON.stringify(rows)],
    );
  }

  /** Pended claims of an insurer awaiting review, oldest first. */
  async pendedClaims(em: EntityManager, insurerId: string, limit: number): Promise<PendedClaimRow[]> {
    return em.query(
      `${PENDED_SELECT} WHERE a.decision = 'pended' AND c.insurer_id = $1 AND r.claim_id IS NULL
          AND NOT EXISTS (SELECT 1 FROM cancellations x WHERE x.claim_id = a.claim_id)
        ORDER BY a.created_at, a.claim_id LIMIT $2`,
      [insurerId, limit],
    );
  }

  async pendedClaim(em: EntityManager, claimId: string): Promise<PendedClaimRow | undefined> {
    const rows: PendedClaimRow[] = await em.query(`${PENDED_SELECT} WHERE a.decision = 'pended' AND a.claim_id = $1`, [
      claimId,
    ]);
    return rows[0];
  }

  async insertReviewDecision(
    em: EntityManager,
    d: { claimId: string; decision: string; reason: string; reviewer: string; result: Adjudication },
  ): Promise<void> {
    await em.query(
      `INSERT INTO review_decisions (claim_id, decision, reason, reviewer, outcome, payable, result)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)`,
      [d.claimId, d.decision, d.reason, d.reviewer, d.result.decision, d.result.payable, JSON.stringify(d.result)],
    );
  }

  /** What the remittance of a decided (or pended) claim is built from; the reviewer's result wins over the engine's. */
  async remittance(em: EntityManager, claimId: string): Promise<RemittanceRow | undefined> {
    const rows: RemittanceRow[] = await em.query(
      `SELECT c.insurer_id AS "insurerId", c.provider_id AS "providerId", c.patient_pseudonym AS "patientPseudonym",
              c.coverage, coalesce(r.result, a.result) AS result, coalesce(r.decided_at, a.created_at) AS "decidedAt",
              p.amount::text AS "paidAmount", p.released_at AS "paidAt"
         FROM adjudications a
         JOIN claims c ON c.claim_id = a.claim_id
         LEFT JOIN review_decisions r ON r.claim_id = a.claim_id
         LEFT JOIN payouts p ON p.claim_id = a.claim_id
        WHERE a.claim_id = $1`,
      [claimId],
    );
    return rows[0];
  }

  /** The root recorded for a tree size, if a checkpoint of that size has been seen. */
  async seenCheckpoint(em: EntityManager, size: number): Promise<string | undefined> {
    const [row]: { root_hash: string }[] = await em.query(
      `SELECT root_hash FROM ledger_checkpoints_seen WHERE tree_size = $1`,
      [size],
    );
    return row?.root_hash;
  }

  /**
   * Serialises the recording of new checkpoints (held until commit), so each new one is checked against the
   * latest recorded before it, never against a sibling recorded concurrently.
   */
  async lockCheckpointChain(em: EntityManager): Promise<void> {
    await em.query(`SELECT pg_advisory_xact_lock(hashtext('ledger-checkpoint-chain'))`);
  }

  /** The largest checkpoint seen: every other one seen has been proven a prefix of it. */
  async largestSeenCheckpoint(em: EntityManager): Promise<{ size: number; root: string } | undefined> {
    const [row]: { size: string; root: string }[] = await em.query(
      `SELECT tree_size::text AS size, root_hash AS root FROM ledger_checkpoints_seen ORDER BY tree_size DESC LIMIT 1`,
    );
    return row && { size: Number(row.size), root: row.root };
  }

  async recordCheckpoint(em: EntityManager, size: number, root: string): Promise<void> {
    await em.query(`INSERT INTO ledger_checkpoints_seen (tree_size, root_hash) VALUES ($1, $2)`, [size, root]);
  }

  async circuit(em: EntityManager): Promise<CircuitRow> {
    const [row]: CircuitRow[] = await em.query(
      `SELECT open, reason, changed_by AS "changedBy", changed_at AS "changedAt" FROM ledger_circuit WHERE id = 1`,
    );
    return row;
  }

  async setCircuit(em: EntityManager, open: boolean, reason: string, by: string): Promise<void> {
    await em.query(
      `UPDATE ledger_circuit SET open = $1, reason = $2, changed_by = $3, changed_at = now() WHERE id = 1`,
      [open, reason, by],
    );
  }
}

const PENDED_SELECT = `
  SELECT a.claim_id AS "claimId", c.insurer_id AS "insurerId", a.contract_id AS "contractId",
         a.policy_id AS "policyId", a.result, a.created_at AS "pendedAt", (r.claim_id IS NOT NULL) AS decided,
         EXISTS (SELECT 1 FROM cancellations x WHERE x.claim_id = a.claim_id) AS cancelled,
         json_build_object('insurer_id', c.insurer_id, 'provider_id', c.provider_id, 'currency', c.currency,
                           'items', c.items, 'coverage', c.coverage, 'patient_pseudonym', c.patient_pseudonym) AS claim
    FROM adjudications a
    JOIN claims c ON c.claim_id = a.claim_id
    LEFT JOIN review_decisions r ON r.claim_id = a.claim_id`;
