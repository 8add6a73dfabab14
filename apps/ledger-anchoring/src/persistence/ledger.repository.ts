import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { NodeRef, PerfectSubtreeReader } from '@claimchain/ledger';

/** Transaction-scoped advisory lock: one sequencer appends or checkpoints at a time, across every replica. */
const SEQUENCER_LOCK_ID = 0x6c6564676572; // "ledger"

export interface StoredLeaf {
  leaf_index: string;
  event_id: string;
  event_type: string;
  subject: string;
  leaf_hash: Buffer;
}

export interface StoredCheckpoint {
  tree_size: string;
  root_hash: Buffer;
  note: string;
}

/** Reads perfect-subtree hashes from ledger_nodes in one query per proof. */
export class PostgresSubtreeReader implements PerfectSubtreeReader {
  constructor(private readonly em: EntityManager) {}

  async get(level: number, index: number): Promise<Buffer> {
    return (await this.getMany([{ level, index }]))[0];
  }

  async getMany(refs: readonly NodeRef[]): Promise<Buffer[]> {
    if (refs.length === 0) return [];
    const rows: { level: number; idx: string; hash: Buffer }[] = await this.em.query(
      `SELECT n.level, n.idx::text, n.hash
         FROM ledger_nodes n
         JOIN unnest($1::smallint[], $2::bigint[]) AS r(level, idx) ON n.level = r.level AND n.idx = r.idx`,
      [refs.map((r) => r.level), refs.map((r) => r.index)],
    );
    const found = new Map(rows.map((r) => [`${r.level}/${r.idx}`, r.hash]));
    return refs.map((r) => {
      const hash = found.get(`${r.level}/${r.index}`);
      if (!hash) throw new Error(`ledger node ${r.level}/${r.index} is missing`);
      return hash;
    });
  }
}

/** All SQL on the ledger's tables. */
@Injectable()
export class LedgerRepository {
  async lockSequencer(em: EntityManager): Promise<void> {
    await em.query(`SELECT pg_advisory_xact_lock($1)`, [SEQUENCER_LOCK_ID]);
  }

  async size(em: EntityManager): Promise<number> {
    const [{ size }] = await em.query(`SELECT COALESCE(MAX(leaf_index) + 1, 0)::int AS size FROM ledger_leaves`);
    return size;
  }

  async hasEvent(em: EntityManager, eventId: string): Promise<boolean> {
    const rows: unknown[] = await em.query(`SELECT 1 FROM ledger_leaves WHERE event_id = $1`, [eventId]);
    return rows.length > 0;
  }

  async insertLeaf(
    em: EntityManager,
    leaf: { index: number; eventId: string; eventType: string; subject: string; leaf: Buffer; leafHash: Buffer },
  ): Promise<void> {
    await em.query(
      `INSERT INTO ledger_leaves (leaf_index, event_id, event_type, subject, leaf, leaf_hash)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [leaf.index, leaf.eventId, leaf.eventType, leaf.subject, leaf.leaf, leaf.leafHash],
    );
  }

  async insertNodes(
    em: EntityManager,
    nodes: readonly { level: number; index: number; hash: Buffer }[],
  ): Promise<void> {
    if (nodes.length === 0) return;
    await em.query(
      `INSERT INTO ledger_nodes (level, idx, hash)
       SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])`,
      [nodes.map((n) => n.level), nodes.map((n) => n.index), nodes.map((n) => n.hash)],
    );
  }

  async leavesBetween(em: EntityManager, from: number, to: number): Promise<StoredLeaf[]> {
    return em.query(
      // ORDER BY the table's column: the output column of the same name is text and would sort "10" before "9".
      `SELECT l.leaf_index::text AS leaf_index, l.event_id, l.event_type, l.subject, l.leaf_hash
         FROM ledger_leaves l WHERE l.leaf_index >= $1 AND l.leaf_index < $2 ORDER BY l.leaf_index`,
      [from, to],
    );
  }

  async leafHash(em: EntityManager, index: number): Promise<Buffer | undefined> {
    const rows: { leaf_hash: Buffer }[] = await em.query(`SELECT leaf_hash FROM ledger_leaves WHERE leaf_index = $1`, [
      index,
    ]);
    return rows[0]?.leaf_hash;
  }

  async latestCheckpoint(em: EntityManager): Promise<StoredCheckpoint | undefined> {
    const rows: StoredCheckpoint[] = await em.query(
      `SELECT c.tree_size::text AS tree_size, c.root_hash, c.note
         FROM ledger_checkpoints c ORDER BY c.tree_size DESC LIMIT 1`,
    );
    return rows[0];
  }

  async insertCheckpoint(em: EntityManager, c: { size: number; root: Buffer; note: string }): Promise<void> {
    await em.query(`INSERT INTO ledger_checkpoints (tree_size, root_hash, note) VALUES ($1, $2, $3)`, [
      c.size,
      c.root,
      c.note,
    ]);
  }
}
