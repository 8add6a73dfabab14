import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';

export interface CircuitRow {
  open: boolean;
  reason: string | null;
  changedBy: string | null;
  changedAt: Date;
}

/** SQL of ledger trust: the checkpoints payout has seen (`ledger_checkpoints_seen`) and the breaker (`ledger_circuit`). */
@Injectable()
export class LedgerTrustRepository {
  /** The root recorded for a tree size, if a checkpoint of that size has been seen. */
  /** The roots of those of these tree sizes seen before, by size. */
  async seenCheckpoints(em: EntityManager, sizes: readonly number[]): Promise<Map<number, string>> {
    const rows: { size: string; root: string }[] = await em.query(
      `SELECT tree_size::text AS size, root_hash AS root FROM ledger_checkpoints_seen WHERE tree_size = ANY($1::bigint[])`,
      [sizes],
    );
    return new Map(rows.map((r) => [Number(r.size), r.root]));
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

  async recordCheckpoints(em: EntityManager, checkpoints: readonly { size: number; root: string }[]): Promise<void> {
    await em.query(
      `INSERT INTO ledger_checkpoints_seen (tree_size, root_hash) SELECT * FROM unnest($1::bigint[], $2::text[])`,
      [checkpoints.map((c) => c.size), checkpoints.map((c) => c.root)],
    );
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
