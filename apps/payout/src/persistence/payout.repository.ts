import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import {
  ClaimCancelledV1,
  ClaimSubmittedV1,
  CloudEvent,
  LedgerAnchoredV1,
  TreatmentVerifiedV1,
} from '@claimchain/contracts';
import { ContractDefinition } from '../contracts/contract.definition';

export interface PendingClaim {
  claim: { insurer_id: string; provider_id: string; currency: string; items: ClaimSubmittedV1['items'] };
  verification: CloudEvent<TreatmentVerifiedV1>;
  anchor: { leaf_hash: string; leaf_index: string; tree_size: string };
}

/** All SQL on payout's tables. */
@Injectable()
export class PayoutRepository {
  /** Serialises everything that happens to one claim, across handlers running on different partitions. */
  async lockClaim(em: EntityManager, claimId: string): Promise<void> {
    await em.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`claim:${claimId}`]);
  }

  async insertContract(em: EntityManager, c: { id: string; definition: ContractDefinition }): Promise<boolean> {
    const rows: unknown[] = await em.query(
      `INSERT INTO contracts (id, insurer_id, name, version, definition) VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [c.id, c.definition.insurerId, c.definition.name, c.definition.version, JSON.stringify(c.definition)],
    );
    return rows.length > 0;
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

  async rememberClaim(em: EntityManager, c: ClaimSubmittedV1): Promise<void> {
    await em.query(
      `INSERT INTO claims (claim_id, insurer_id, provider_id, currency, items) VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT (claim_id) DO NOTHING`,
      [c.claimId, c.insurerId, c.providerId, c.currency, JSON.stringify(c.items)],
    );
  }

  async rememberVerification(em: EntityManager, event: CloudEvent<TreatmentVerifiedV1>): Promise<void> {
    await em.query(
      `INSERT INTO verifications (claim_id, event_id, envelope) VALUES ($1, $2, $3::jsonb) ON CONFLICT DO NOTHING`,
      [event.data.claimId, event.id, JSON.stringify(event)],
    );
  }

  async rememberAnchor(em: EntityManager, a: LedgerAnchoredV1): Promise<void> {
    await em.query(
      `INSERT INTO verification_anchors (event_id, claim_id, leaf_index, leaf_hash, tree_size, checkpoint)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [a.eventId, a.eventSubject, a.leafIndex, a.leafHash, a.treeSize, a.checkpoint],
    );
  }

  async rememberCancellation(em: EntityManager, event: CloudEvent<ClaimCancelledV1>): Promise<void> {
    await em.query(
      `INSERT INTO cancellations (claim_id, event_id, cancelled_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [event.data.claimId, event.id, event.data.cancelledAt],
    );
  }

  /** Everything adjudication needs, or undefined while a fact is still missing or the claim is already decided or cancelled. */
  async pending(em: EntityManager, claimId: string): Promise<PendingClaim | undefined> {
    const rows: (PendingClaim['claim'] & { envelope: PendingClaim['verification'] } & PendingClaim['anchor'])[] =
      await em.query(
        `SELECT c.insurer_id, c.provider_id, c.currency, c.items, v.envelope,
                a.leaf_hash, a.leaf_index::text, a.tree_size::text
           FROM claims c
           JOIN verifications v ON v.claim_id = c.claim_id
           JOIN verification_anchors a ON a.event_id = v.event_id
          WHERE c.claim_id = $1
            AND NOT EXISTS (SELECT 1 FROM adjudications d WHERE d.claim_id = c.claim_id)
            AND NOT EXISTS (SELECT 1 FROM cancellations x WHERE x.claim_id = c.claim_id)`,
        [claimId],
      );
    const r = rows[0];
    if (!r) return undefined;
    return {
      claim: { insurer_id: r.insurer_id, provider_id: r.provider_id, currency: r.currency, items: r.items },
      verification: r.envelope,
      anchor: { leaf_hash: r.leaf_hash, leaf_index: r.leaf_index, tree_size: r.tree_size },
    };
  }

  async insertAdjudication(
    em: EntityManager,
    a: { claimId: string; contractId: string; decision: string; payable: string; result: unknown },
  ): Promise<void> {
    await em.query(
      `INSERT INTO adjudications (claim_id, contract_id, decision, payable, result) VALUES ($1, $2, $3, $4, $5::jsonb)`,
      [a.claimId, a.contractId, a.decision, a.payable, JSON.stringify(a.result)],
    );
  }

  async insertPayout(
    em: EntityManager,
    p: { id: string; claimId: string; payeeId: string; amount: string; currency: string },
  ): Promise<void> {
    await em.query(`INSERT INTO payouts (id, claim_id, payee_id, amount, currency) VALUES ($1, $2, $3, $4, $5)`, [
      p.id,
      p.claimId,
      p.payeeId,
      p.amount,
      p.currency,
    ]);
  }
}
