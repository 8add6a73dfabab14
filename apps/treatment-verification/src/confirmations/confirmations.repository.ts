import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { lockInOrder, outboxInsert, RetentionRule } from '@claimchain/messaging';
import { ClaimSubmittedV1, CloudEvent, TopicName } from '@claimchain/contracts';
import { PerformedTreatment } from './confirm-treatment/treatment-matcher';

export interface KnownClaim {
  claim_id: string;
  insurer_id: string;
  provider_id: string;
  items: ClaimSubmittedV1['items'];
}

export type ConfirmationOutcome = 'pending' | 'verified' | 'rejected';

export interface NewConfirmation {
  id: string;
  claimId: string;
  providerId: string;
  outcome: ConfirmationOutcome;
  performed: unknown;
  reasons: unknown;
}

export interface ConfirmationRow {
  id: string;
  claim_id: string;
  provider_id: string;
  outcome: ConfirmationOutcome;
  performed: PerformedTreatment[];
  reasons: unknown[];
}

/** The advisory lock a claim is decided under (`<prefix><claim id>`): see lockClaimIds. */
const CLAIM_LOCK_PREFIX = 'confirm:';

/**
 * Pending confirmations expire `ttlMs` after they were posted (the retention pruner deletes them; a provider may
 * confirm again once the claim has arrived). One whose claim is being decided right now (its lock is taken) is left
 * for the next run, by which time it is no longer pending.
 */
export function pendingConfirmationsRetention(ttlMs: number): RetentionRule {
  return {
    name: 'pending-confirmations',
    table: 'confirmations',
    column: 'created_at',
    keepMs: ttlMs,
    where: `outcome = 'pending' AND pg_try_advisory_xact_lock(hashtext('${CLAIM_LOCK_PREFIX}' || claim_id::text))`,
  };
}

/** All SQL on treatment-verification's tables. */
@Injectable()
export class ConfirmationsRepository {
  /**
   * Serialises the two ways a claim gets decided (a confirmation POST, the claim's arrival), which may race when
   * the provider confirms just as the claim arrives: in one statement and one global order, so two batches cannot
   * deadlock.
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
  async rememberClaims(em: EntityManager, claims: readonly ClaimSubmittedV1[]): Promise<void> {
    if (claims.length === 0) return;
    await em.query(
      `INSERT INTO claims (claim_id, insurer_id, provider_id, items)
       SELECT c."claimId", c."insurerId", c."providerId", c.items
         FROM jsonb_to_recordset($1::jsonb) AS c("claimId" uuid, "insurerId" text, "providerId" text, items jsonb)
       ON CONFLICT (claim_id) DO NOTHING`,
      [
        JSON.stringify(
          claims.map(({ claimId, insurerId, providerId, items }) => ({ claimId, insurerId, providerId, items })),
        ),
      ],
    );
  }

  /**
   * What deciding these claims' confirmations needs, in one statement: each claim this service knows (its lines)
   * and whether it already has a confirmation. Call it after locking the claim ids, so the answer cannot change
   * before the caller's transaction commits.
   */
  async confirmationContext(
    em: EntityManager,
    claimIds: readonly string[],
  ): Promise<{ claims: Map<string, KnownClaim>; confirmed: Set<string> }> {
    const rows: (Partial<KnownClaim> & { id: string; confirmed: boolean })[] = await em.query(
      `SELECT ids.id::text AS id, c.claim_id::text AS claim_id, c.insurer_id, c.provider_id, c.items,
              EXISTS (SELECT 1 FROM confirmations f WHERE f.claim_id = ids.id) AS confirmed
         FROM unnest($1::uuid[]) AS ids(id) LEFT JOIN claims c ON c.claim_id = ids.id`,
      [claimIds],
    );
    const claims = new Map<string, KnownClaim>();
    const confirmed = new Set<string>();
    for (const row of rows) {
      if (row.claim_id) claims.set(row.id, row as KnownClaim);
      if (row.confirmed) confirmed.add(row.id);
    }
    return { claims, confirmed };
  }

  async findConfirmation(em: EntityManager, id: string): Promise<ConfirmationRow | undefined> {
    const rows: ConfirmationRow[] = await em.query(
      `SELECT id, claim_id, provider_id, outcome, performed, reasons FROM confirmations WHERE id = $1`,
      [id],
    );
    return rows[0];
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
    const outbox = events.length > 0 ? outboxInsert(events, 2) : undefined;
    await em.query(
      `WITH inserted AS (
         INSERT INTO confirmations (id, claim_id, provider_id, outcome, performed, reasons, decided_at)
         SELECT f.id, f."claimId", f."providerId", f.outcome, f.performed, f.reasons,
                CASE WHEN f.outcome = 'pending' THEN NULL ELSE now() END
           FROM jsonb_to_recordset($1::jsonb)
             AS f(id uuid, "claimId" uuid, "providerId" text, outcome text, performed jsonb, reasons jsonb)
         RETURNING 1)
       ${outbox ? `, ${outbox.cte} ${outbox.notify}` : 'SELECT count(*) FROM inserted'}`,
      [JSON.stringify(confirmations), ...(outbox?.params ?? [])],
    );
  }

  /** The confirmations still waiting for these claims, one query. */
  async pendingFor(em: EntityManager, claimIds: readonly string[]): Promise<ConfirmationRow[]> {
    if (claimIds.length === 0) return [];
    return em.query(
      `SELECT id, claim_id::text, provider_id, outcome, performed, reasons FROM confirmations
        WHERE claim_id = ANY($1::uuid[]) AND outcome = 'pending'`,
      [claimIds],
    );
  }

  /** decidePending and deleteConfirmation for many, in two statements. */
  async settlePending(
    em: EntityManager,
    decided: { id: string; outcome: Exclude<ConfirmationOutcome, 'pending'>; reasons: unknown }[],
    discarded: string[],
  ): Promise<void> {
    if (discarded.length > 0) await em.query(`DELETE FROM confirmations WHERE id = ANY($1::uuid[])`, [discarded]);
    if (decided.length === 0) return;
    await em.query(
      `UPDATE confirmations f SET outcome = d.outcome, reasons = d.reasons, decided_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS d(id uuid, outcome text, reasons jsonb)
        WHERE f.id = d.id AND f.outcome = 'pending'`,
      [JSON.stringify(decided)],
    );
  }
}
