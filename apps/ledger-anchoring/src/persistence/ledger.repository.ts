import { Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { EntityManager } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { NodeRef, PerfectSubtreeReader, TreeNode } from '@claimchain/ledger';

/** Transaction-scoped advisory lock: one sequencer appends at a time, across every replica. */
const SEQUENCER_LOCK_ID = 0x6c6564676572; // "ledger"
/** Transaction-scoped: one checkpoint is signed at a time, so two never announce the same leaves. */
const CHECKPOINTER_LOCK_ID = 0x6c6564676370; // "ledgcp"
/** Notified (payload: the new size) when an append commits, so the checkpoint leader on any replica wakes. */
export const APPENDED_CHANNEL = 'ledger_appended';

export interface StoredLeaf {
  leaf_index: string;
  event_id: string;
  event_type: string;
  subject: string;
  /** Null for leaves appended before it was kept. */
  correlation_id: string | null;
  leaf_hash: Buffer;
  /** The salt of a v2 leaf, null for v1: for the anchor notices only, never for the public read API. */
  data_salt: Buffer | null;
}

export interface StoredEntry {
  leaf_index: string;
  event_id: string;
  event_type: string;
  leaf: Buffer;
  leaf_hash: Buffer;
}

export interface StoredCheckpoint {
  tree_size: string;
  root_hash: Buffer;
  note: string;
}

export interface NewLeaf {
  index: number;
  eventId: string;
  eventType: string;
  subject: string;
  /** The event's `correlationid`, which its ledger.anchored notice carries on (ADR 20); not part of the leaf. */
  correlationId: string;
  leaf: Buffer;
  leafHash: Buffer;
  /** The salt of a v2 (salted) leaf; null for a v1 leaf. */
  dataSalt: Buffer | null;
}

/**
 * Runs a read. Outside a transaction it goes straight to the pool as a named prepared statement: the proof and
 * audit queries run thousands of times a second, and skipping TypeORM's per-query runner and Postgres' re-planning
 * makes them about 1.5× cheaper. Inside a transaction it must use the transaction's connection.
 */
async function read<T>(em: EntityManager, name: string, sql: string, params: unknown[]): Promise<T[]> {
  if (em.queryRunner) return em.query(sql, params);
  return (await poolOf(em).query({ name, text: sql, values: params })).rows as T[];
}

function poolOf(em: EntityManager): Pool {
  return (em.connection.driver as PostgresDriver).master as Pool;
}

/**
 * Reads rows that Postgres packed into one bytea (string_agg of int2send/int8send, with int4send(length) before each
 * variable value). The audit reads every row of the log: a pg result row per leaf costs the driver ~3 µs of parsing
 * (a row object, a field per column, a hex decode per value), a packed page costs one hex decode and a few buffer
 * reads per row. Lengths are sent, not assumed, so a value tampered to another size arrives exactly as stored.
 */
class PackedReader {
  private offset = 0;
  private readonly buf: Buffer;
  /** `packed` is null when the aggregate had no rows. */
  constructor(packed: Buffer | null) {
    this.buf = packed ?? Buffer.alloc(0);
  }

  get done(): boolean {
    return this.offset >= this.buf.length;
  }

  int2(): number {
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  int8(): number {
    // Indices stay far below 2^53; two unsigned halves avoid a BigInt per row.
    const v = this.buf.readUInt32BE(this.offset) * 2 ** 32 + this.buf.readUInt32BE(this.offset + 4);
    this.offset += 8;
    return v;
  }

  bytes(): Buffer {
    const length = this.buf.readInt32BE(this.offset);
    const start = this.offset + 4;
    this.offset = start + length;
    if (this.offset > this.buf.length) throw new Error('packed rows end inside a value');
    return this.buf.subarray(start, this.offset);
  }
}

/** Data-modifying CTEs for an append's rows; the statement they open ends in a SELECT of the caller's. */
const INSERT_LEAVES_AND_NODES = `
  WITH leaves AS (
    INSERT INTO ledger_leaves (leaf_index, event_id, event_type, subject, leaf, leaf_hash, data_salt, correlation_id)
    SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::bytea[], $6::bytea[], $7::bytea[],
                         $8::text[])),
  nodes AS (
    INSERT INTO ledger_nodes (level, idx, hash) SELECT * FROM unnest($9::smallint[], $10::bigint[], $11::bytea[]))`;

function leafAndNodeArrays(leaves: readonly NewLeaf[], nodes: readonly TreeNode[]): unknown[] {
  return [
    leaves.map((l) => l.index),
    leaves.map((l) => l.eventId),
    leaves.map((l) => l.eventType),
    leaves.map((l) => l.subject),
    leaves.map((l) => l.leaf),
    leaves.map((l) => l.leafHash),
    leaves.map((l) => l.dataSalt),
    leaves.map((l) => l.correlationId),
    nodes.map((n) => n.level),
    nodes.map((n) => n.index),
    nodes.map((n) => n.hash),
  ];
}

/** One number per node (level ≤ 63, index < 2^47): a cheaper Map key than a string when reads are 100k nodes. */
function nodeKey(level: number, index: number): number {
  return level * 2 ** 47 + index;
}

/** Reads perfect-subtree hashes from ledger_nodes in one query per proof. */
export class PostgresSubtreeReader implements PerfectSubtreeReader {
  constructor(private readonly em: EntityManager) {}

  async get(level: number, index: number): Promise<Buffer> {
    return (await this.getMany([{ level, index }]))[0];
  }

  async getMany(refs: readonly NodeRef[]): Promise<Buffer[]> {
    if (refs.length === 0) return [];
    const rows = await read<{ level: number; idx: string; hash: Buffer }>(
      this.em,
      'ledger_nodes_by_ref',
      `SELECT n.level, n.idx::text AS idx, n.hash
         FROM ledger_nodes n
         JOIN unnest($1::smallint[], $2::bigint[]) AS r(level, idx) ON n.level = r.level AND n.idx = r.idx`,
      [refs.map((r) => r.level), refs.map((r) => r.index)],
    );
    const found = new Map(rows.map((r) => [nodeKey(r.level, Number(r.idx)), r.hash]));
    return refs.map((r) => {
      const hash = found.get(nodeKey(r.level, r.index));
      if (!hash) throw new Error(`ledger node ${r.level}/${r.index} is missing`);
      return hash;
    });
  }
}

/** All SQL on the ledger's tables. Sizes and indices leave as text and become numbers here (exact to 2^53). */
@Injectable()
export class LedgerRepository {
  async lockSequencer(em: EntityManager): Promise<void> {
    await em.query(`SELECT pg_advisory_xact_lock($1)`, [SEQUENCER_LOCK_ID]);
  }

  async lockCheckpointer(em: EntityManager): Promise<void> {
    await em.query(`SELECT pg_advisory_xact_lock($1)`, [CHECKPOINTER_LOCK_ID]);
  }

  /** Leaves commit in index order under the sequencer lock, so the committed leaves are always a prefix. */
  /** What a checkpoint starts from, in one round trip: the size the latest checkpoint covers and the log's size. */
  async checkpointState(em: EntityManager): Promise<{ checkpointed: number; size: number }> {
    const [row] = await em.query(
      `SELECT COALESCE((SELECT MAX(c.tree_size) FROM ledger_checkpoints c), 0)::text AS checkpointed,
              (SELECT COALESCE(MAX(l.leaf_index), -1) + 1 FROM ledger_leaves l)::text AS size`,
    );
    return { checkpointed: Number(row.checkpointed), size: Number(row.size) };
  }

  /** The pg pool under TypeORM: its settings open the connection of the audit's worker thread. */
  pool(em: EntityManager): Pool {
    return poolOf(em);
  }

  async size(em: EntityManager): Promise<number> {
    const [{ size }] = await em.query(`SELECT (COALESCE(MAX(leaf_index), -1) + 1)::text AS size FROM ledger_leaves`);
    return Number(size);
  }

  /**
   * What an append needs to know, in one round trip (call under the sequencer lock, in its own statement: a
   * statement's snapshot is taken when it starts): the log's size, which of `eventIds` it already holds, and its
   * frontier, the perfect subtrees on its right edge (one per set bit of the size, as `rootRefs(size)` names them:
   * the level-L subtree starts at leaf (size >> (L+1)) << (L+1), so its index at level L is (size >> (L+1)) << 1).
   */
  async appendState(
    em: EntityManager,
    eventIds: readonly string[],
  ): Promise<{ size: number; existing: Set<string>; frontier: TreeNode[] }> {
    const [row]: { size: string; existing: string[]; frontier: { level: number; idx: string; hash: string }[] }[] =
      await em.query(
        `WITH s AS (SELECT COALESCE(MAX(leaf_index), -1) + 1 AS n FROM ledger_leaves)
         SELECT s.n::text AS size,
                ARRAY(SELECT event_id::text FROM ledger_leaves WHERE event_id = ANY($1::uuid[])) AS existing,
                COALESCE((SELECT json_agg(json_build_object('level', f.level, 'idx', f.idx::text,
                                                            'hash', encode(f.hash, 'base64')))
                            FROM generate_series(0, 62) AS l
                            JOIN ledger_nodes f ON f.level = l AND f.idx = (s.n >> (l + 1)) << 1
                           WHERE (s.n >> l) & 1 = 1), '[]') AS frontier
           FROM s`,
        [eventIds],
      );
    return {
      size: Number(row.size),
      existing: new Set(row.existing),
      frontier: row.frontier.map((f) => ({
        level: f.level,
        index: Number(f.idx),
        hash: Buffer.from(f.hash, 'base64'),
      })),
    };
  }

  /**
   * A batch's leaves and the subtree nodes they complete in one statement, with the NOTIFY (delivered at commit)
   * that wakes the checkpointer: one round trip where three used to be.
   */
  async appendRows(
    em: EntityManager,
    leaves: readonly NewLeaf[],
    nodes: readonly TreeNode[],
    size: number,
  ): Promise<void> {
    await em.query(`${INSERT_LEAVES_AND_NODES} SELECT pg_notify($12, $13)`, [
      ...leafAndNodeArrays(leaves, nodes),
      APPENDED_CHANNEL,
      String(size),
    ]);
  }

  /** The bench's ceiling: the same rows as an append, nothing else. */
  async insertLeavesAndNodes(em: EntityManager, leaves: readonly NewLeaf[], nodes: readonly TreeNode[]): Promise<void> {
    await em.query(`${INSERT_LEAVES_AND_NODES} SELECT 1`, leafAndNodeArrays(leaves, nodes));
  }

  async leavesBetween(em: EntityManager, from: number, to: number): Promise<StoredLeaf[]> {
    return em.query(
      // ORDER BY the table's column: the output column of the same name is text and would sort "10" before "9".
      `SELECT l.leaf_index::text AS leaf_index, l.event_id, l.event_type, l.subject, l.correlation_id, l.leaf_hash,
              l.data_salt
         FROM ledger_leaves l WHERE l.leaf_index >= $1 AND l.leaf_index < $2 ORDER BY l.leaf_index`,
      [from, to],
    );
  }

  /** Leaf bytes and hashes of [from, to), in index order. */
  async entriesBetween(em: EntityManager, from: number, to: number): Promise<StoredEntry[]> {
    return read(
      em,
      'ledger_entries_between',
      `SELECT l.leaf_index::text AS leaf_index, l.event_id, l.event_type, l.leaf, l.leaf_hash
         FROM ledger_leaves l WHERE l.leaf_index >= $1 AND l.leaf_index < $2 ORDER BY l.leaf_index`,
      [from, to],
    );
  }

  async entryByEventId(em: EntityManager, eventId: string): Promise<StoredEntry | undefined> {
    const rows = await read<StoredEntry>(
      em,
      'ledger_entry_by_event',
      `SELECT l.leaf_index::text AS leaf_index, l.event_id, l.event_type, l.leaf, l.leaf_hash
         FROM ledger_leaves l WHERE l.event_id = $1`,
      [eventId],
    );
    return rows[0];
  }

  async indexOfLeafHash(em: EntityManager, leafHash: Buffer): Promise<number | undefined> {
    const rows = await read<{ leaf_index: string }>(
      em,
      'ledger_index_of_leaf_hash',
      `SELECT l.leaf_index::text AS leaf_index FROM ledger_leaves l WHERE l.leaf_hash = $1
        ORDER BY l.leaf_index LIMIT 1`,
      [leafHash],
    );
    return rows[0] ? Number(rows[0].leaf_index) : undefined;
  }

  /**
   * The stored nodes completed by the leaves [from, to): per level L, indices i with from < (i+1)·2^L <= to. One
   * indexed range scan per level, for the audit: the OFFSET 0 fence keeps the planner from turning the per-level
   * ranges into a hash join over the whole table, which it prefers for a small log and which reads every node of
   * the log for every page.
   */
  async nodesCompletedBetween(
    em: EntityManager,
    from: number,
    to: number,
    { fromLevel = 0 }: { fromLevel?: number } = {},
  ): Promise<TreeNode[]> {
    const levels: number[] = [];
    const lows: number[] = [];
    const highs: number[] = [];
    for (let level = 0, width = 1; width <= to; level++, width *= 2) {
      const low = Math.floor(from / width); // first i with (i+1)·width > from
      const high = Math.floor(to / width) - 1;
      if (low <= high && level >= fromLevel) {
        levels.push(level);
        lows.push(low);
        highs.push(high);
      }
    }
    const [{ frames }] = await read<{ frames: Buffer | null }>(
      em,
      'ledger_nodes_completed_between',
      `SELECT string_agg(int2send(n.level) || int8send(n.idx) || int4send(length(n.hash)) || n.hash, ''::bytea) AS frames
         FROM unnest($1::smallint[], $2::bigint[], $3::bigint[]) AS r(level, lo, hi)
        CROSS JOIN LATERAL (SELECT n.level, n.idx, n.hash FROM ledger_nodes n
                             WHERE n.level = r.level AND n.idx BETWEEN r.lo AND r.hi OFFSET 0) n`,
      [levels, lows, highs],
    );
    const nodes: TreeNode[] = [];
    for (const r = new PackedReader(frames); !r.done;)
      nodes.push({ level: r.int2(), index: r.int8(), hash: r.bytes() });
    return nodes;
  }

  /**
   * The level-0 nodes of leaves [from, to) that are not their leaf's stored hash: missing (hash null) or different.
   * Compared in Postgres, so an audit reads only these instead of a second copy of every leaf hash. The range is
   * repeated on the nodes so the join reads only this page's level-0 nodes, never the whole level.
   */
  async leafNodeMismatches(em: EntityManager, from: number, to: number): Promise<Map<number, Buffer | undefined>> {
    const rows = await read<{ idx: string; hash: Buffer | null }>(
      em,
      'ledger_leaf_node_mismatches',
      `SELECT l.leaf_index::text AS idx, n.hash
         FROM ledger_leaves l
         LEFT JOIN ledger_nodes n ON n.level = 0 AND n.idx = l.leaf_index AND n.idx >= $1 AND n.idx < $2
        WHERE l.leaf_index >= $1 AND l.leaf_index < $2 AND n.hash IS DISTINCT FROM l.leaf_hash`,
      [from, to],
    );
    return new Map(rows.map((r) => [Number(r.idx), r.hash ?? undefined]));
  }

  async latestCheckpoint(em: EntityManager): Promise<StoredCheckpoint | undefined> {
    const rows: StoredCheckpoint[] = await em.query(
      `SELECT c.tree_size::text AS tree_size, c.root_hash, c.note
         FROM ledger_checkpoints c ORDER BY c.tree_size DESC LIMIT 1`,
    );
    return rows[0];
  }

  async checkpointsAfter(em: EntityManager, size: number, limit: number): Promise<StoredCheckpoint[]> {
    return em.query(
      `SELECT c.tree_size::text AS tree_size, c.root_hash, c.note
         FROM ledger_checkpoints c WHERE c.tree_size > $1 ORDER BY c.tree_size LIMIT $2`,
      [size, limit],
    );
  }

  async insertCheckpoint(em: EntityManager, c: { size: number; root: Buffer; note: string }): Promise<void> {
    await em.query(`INSERT INTO ledger_checkpoints (tree_size, root_hash, note) VALUES ($1, $2, $3)`, [
      c.size,
      c.root,
      c.note,
    ]);
  }

  /** How far an anchor sink has published: the largest tree size it holds, 0 when none. */
  async anchoredSize(em: EntityManager, sink: string): Promise<number> {
    const rows: { published_size: string }[] = await em.query(
      `SELECT published_size::text AS published_size FROM ledger_anchor_sinks WHERE sink = $1`,
      [sink],
    );
    return rows[0] ? Number(rows[0].published_size) : 0;
  }

  async markAnchored(em: EntityManager, sink: string, size: number): Promise<void> {
    await em.query(
      `INSERT INTO ledger_anchor_sinks (sink, published_size) VALUES ($1, $2)
       ON CONFLICT (sink) DO UPDATE SET published_size = GREATEST(ledger_anchor_sinks.published_size, EXCLUDED.published_size),
                                        updated_at = now()`,
      [sink, size],
    );
  }
}
