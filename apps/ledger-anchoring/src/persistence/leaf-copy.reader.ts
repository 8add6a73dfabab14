/**
 * The audit's bulk read of the leaves: `COPY … TO STDOUT (FORMAT binary)` of [from, to) in index order, parsed from
 * the raw stream. A query result would arrive as hex text that the pg driver turns into a string and decodes again
 * (~3 µs per leaf on the 2-core machine, more than hashing it); binary COPY hands over the stored bytes as they are,
 * streamed with backpressure, so a log of any size is read in bounded memory. Its own module, with no Nest or
 * TypeORM, because it runs on the audit's worker thread (log/audit/leaf-hashing.worker.ts).
 */
import { Client } from 'pg';
import { to as copyTo } from 'pg-copy-streams';

export interface CopiedLeaf {
  index: number;
  leaf: Buffer;
  /** As stored; empty when the column is NULL (which no leaf hash matches). */
  leafHash: Buffer;
}

/** `PGCOPY\n\377\r\n\0`, then int32 flags and int32 header-extension length. */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const HEADER_SIZE = SIGNATURE.length + 8;
const EMPTY: Buffer = Buffer.alloc(0);

/** The leaves of [from, to), in index order, in batches as the stream delivers them. */
export async function* copyLeaves(client: Client, from: number, to: number): AsyncGenerator<CopiedLeaf[]> {
  // Integers are literals (COPY takes no parameters); they were checked to be safe integers.
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) throw new Error(`bad leaf range [${from}, ${to})`);
  const stream = client.query(
    copyTo(
      `COPY (SELECT leaf_index, leaf, leaf_hash FROM ledger_leaves
              WHERE leaf_index >= ${from} AND leaf_index < ${to} ORDER BY leaf_index) TO STDOUT (FORMAT binary)`,
    ),
  );
  let pending: Buffer = EMPTY;
  let headerRead = false;
  let ended = false;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const buf = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    let offset = 0;
    if (!headerRead) {
      if (buf.length < HEADER_SIZE) {
        pending = buf;
        continue;
      }
      if (!buf.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new Error('not a binary COPY stream');
      const extension = buf.readInt32BE(SIGNATURE.length + 4);
      offset = HEADER_SIZE + extension;
      headerRead = true;
    }
    const rows: CopiedLeaf[] = [];
    while (!ended) {
      const row = readRow(buf, offset);
      if (row === undefined) break;
      offset = row.next;
      if (row.fields === undefined) ended = true;
      else rows.push(leafOf(row.fields));
    }
    pending = buf.subarray(offset);
    if (rows.length > 0) yield rows;
  }
  if (!ended) throw new Error('the COPY stream ended before its trailer');
}

/** One tuple at `offset`: its fields (undefined for the trailer) and where the next starts; undefined if incomplete. */
function readRow(buf: Buffer, offset: number): { fields?: (Buffer | null)[]; next: number } | undefined {
  if (buf.length - offset < 2) return undefined;
  const count = buf.readInt16BE(offset);
  if (count === -1) return { next: offset + 2 };
  let p = offset + 2;
  const fields: (Buffer | null)[] = [];
  for (let i = 0; i < count; i++) {
    if (buf.length - p < 4) return undefined;
    const length = buf.readInt32BE(p);
    p += 4;
    if (length === -1) {
      fields.push(null);
      continue;
    }
    if (buf.length - p < length) return undefined;
    fields.push(buf.subarray(p, p + length));
    p += length;
  }
  return { fields, next: p };
}

function leafOf([index, leaf, leafHash]: (Buffer | null)[]): CopiedLeaf {
  if (index?.length !== 8) throw new Error('a leaf row without its index');
  // Indices stay far below 2^53; two unsigned halves avoid a BigInt per row.
  return {
    index: index.readUInt32BE(0) * 2 ** 32 + index.readUInt32BE(4),
    leaf: leaf ?? EMPTY,
    leafHash: leafHash ?? EMPTY,
  };
}
