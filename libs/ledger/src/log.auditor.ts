/**
 * A full audit of a log: recompute every leaf hash and the tree from the leaves, and compare with what the log
 * claims: the stored leaf hashes, optionally every stored perfect-subtree hash, and the roots of its signed
 * checkpoints. Reports the first index that does not match, so "which row was changed" has an answer.
 *
 * Streaming and pure: feed entries in index order in as many batches as you like (from Postgres, from the public
 * entries API, from a file); memory stays O(log n). The service audits its own tables with the stored nodes; the
 * verifier CLI audits the public API against checkpoints whose signatures it has already checked.
 */
import { LedgerError } from './ledger.errors';
import { NodeRef } from './proof.planner';
import { emptyRoot, foldRightEdge, HASH_SIZE, hashChildren, hashLeaf } from './rfc9162.hasher';
import { checkSize } from './tree-size.math';

export const AUDIT_FINDING_CODES = [
  /** The entry's stored leaf hash is not H(0x00 ‖ leaf): the leaf bytes or the hash were changed. */
  'AUDIT.LEAF_HASH_MISMATCH',
  /** A stored subtree hash differs from the one recomputed from the leaves (a leaf was rewritten with its hash). */
  'AUDIT.NODE_MISMATCH',
  /** A stored subtree hash the leaves imply is not there. */
  'AUDIT.NODE_MISSING',
  /** Entries skip or repeat an index. */
  'AUDIT.INDEX_GAP',
  /** A checkpoint's root differs from the leaves' root: a leaf in [index, checkpointSize) was changed. */
  'AUDIT.ROOT_MISMATCH',
  /** A checkpoint covers more entries than the log has: entries from `index` on are missing. */
  'AUDIT.LOG_TOO_SHORT',
] as const;

export type AuditFindingCode = (typeof AUDIT_FINDING_CODES)[number];

export interface AuditEntry {
  readonly index: number;
  /** The leaf bytes (the event commitment). */
  readonly leaf: Uint8Array;
  /** The leaf hash the log stores for it; checked when given. */
  readonly leafHash?: Uint8Array;
}

/** A checkpoint's claim, after its signature was checked: the tree of `size` leaves has `root`. */
export interface AuditedCheckpoint {
  readonly size: number;
  readonly root: Uint8Array;
}

/** The stored hash of perfect subtree (level, index), or undefined when the store has none. */
export type StoredNodeLookup = (level: number, index: number) => Uint8Array | undefined;

export interface AuditFinding {
  readonly code: AuditFindingCode;
  /** The first leaf index that does not match (for a node: the first leaf it covers). */
  readonly index: number;
  /** ROOT_MISMATCH / LOG_TOO_SHORT: the checkpoint's size. The changed leaf is below it. */
  readonly checkpointSize?: number;
  /** NODE_MISMATCH / NODE_MISSING: the subtree whose stored hash is wrong. */
  readonly node?: NodeRef;
  readonly message: string;
}

export interface AuditReport {
  readonly ok: boolean;
  /** Entries checked (up to and excluding the finding's index when there is one). */
  readonly size: number;
  /** Root of the entries checked. */
  readonly root: Buffer;
  /** Checkpoints whose root matched. */
  readonly checkpointsVerified: number;
  readonly finding?: AuditFinding;
}

/**
 * Audits a log incrementally. `add` stops at the first finding and ignores everything after it; `finish` also
 * reports checkpoints the entries never reached.
 */
export class LogAuditor {
  private readonly checkpoints: AuditedCheckpoint[];
  private nextCheckpoint = 0;
  private lastVerifiedSize = 0;
  private verified = 0;
  // The frontier: perfect subtrees on the right edge, largest first, as parallel arrays to keep the loop cheap.
  private readonly levels: number[] = [];
  private readonly hashes: Buffer[] = [];
  private treeSize = 0;
  private found?: AuditFinding;

  constructor(checkpoints: readonly AuditedCheckpoint[]) {
    for (const c of checkpoints) {
      checkSize(c.size, 'checkpoint size');
      if (c.root.length !== HASH_SIZE) {
        throw new LedgerError('LEDGER.HASH_WRONG_SIZE', `checkpoint ${c.size} root has ${c.root.length} bytes`);
      }
    }
    this.checkpoints = [...checkpoints].sort((a, b) => a.size - b.size);
    this.matchCheckpoints();
  }

  get size(): number {
    return this.treeSize;
  }

  get finding(): AuditFinding | undefined {
    return this.found;
  }

  /** Feeds the next entries, in index order. Returns the first finding so far, if any. */
  add(entries: Iterable<AuditEntry>, storedNode?: StoredNodeLookup): AuditFinding | undefined {
    if (this.found) return this.found;
    for (const entry of entries) {
      const index = this.treeSize;
      if (entry.index !== index) {
        return this.fail('AUDIT.INDEX_GAP', index, `expected entry ${index}, got entry ${entry.index}`);
      }
      const computed = hashLeaf(entry.leaf);
      if (entry.leafHash !== undefined && !computed.equals(entry.leafHash)) {
        return this.fail('AUDIT.LEAF_HASH_MISMATCH', index, `entry ${index}: stored leaf hash is not the leaf's hash`);
      }
      if (!this.grow(index, computed, storedNode)) return this.found;
    }
    return undefined;
  }

  /**
   * Feeds the next entries by their leaf hashes alone (32 bytes each, in index order from `firstIndex`), for a caller
   * that hashed the leaves itself, on another thread, and checked them against the stored leaf hashes there, exactly
   * as `add` would. Everything else (the tree, stored nodes, checkpoints) is checked here, in order.
   */
  addLeafHashes(firstIndex: number, leafHashes: Uint8Array, storedNode?: StoredNodeLookup): AuditFinding | undefined {
    if (this.found) return this.found;
    if (leafHashes.length % HASH_SIZE !== 0) {
      throw new LedgerError('LEDGER.HASH_WRONG_SIZE', `${leafHashes.length} bytes are not whole leaf hashes`);
    }
    const hashes = Buffer.from(leafHashes.buffer, leafHashes.byteOffset, leafHashes.length);
    for (let offset = 0, index = firstIndex; offset < hashes.length; offset += HASH_SIZE, index++) {
      if (index !== this.treeSize) {
        return this.fail('AUDIT.INDEX_GAP', this.treeSize, `expected entry ${this.treeSize}, got entry ${index}`);
      }
      if (!this.grow(index, hashes.subarray(offset, offset + HASH_SIZE), storedNode)) return this.found;
    }
    return undefined;
  }

  /** Adds leaf `index` (the next one) with its hash to the tree, checking stored nodes and checkpoints it completes. */
  private grow(index: number, leafHash: Buffer, storedNode: StoredNodeLookup | undefined): boolean {
    if (storedNode && !this.checkNode(storedNode, 0, index, leafHash)) return false;
    let level = 0;
    let hash = leafHash;
    let nodeIndex = index;
    while (this.levels.length > 0 && this.levels[this.levels.length - 1] === level) {
      this.levels.pop();
      hash = hashChildren(this.hashes.pop()!, hash);
      level += 1;
      nodeIndex = Math.floor(nodeIndex / 2);
      if (storedNode && !this.checkNode(storedNode, level, nodeIndex, hash)) return false;
    }
    this.levels.push(level);
    this.hashes.push(hash);
    this.treeSize = index + 1;
    if (this.nextCheckpoint < this.checkpoints.length && this.checkpoints[this.nextCheckpoint].size === this.treeSize) {
      return this.matchCheckpoints();
    }
    return true;
  }

  finish(): AuditReport {
    if (!this.found && this.nextCheckpoint < this.checkpoints.length) {
      const c = this.checkpoints[this.nextCheckpoint];
      this.fail(
        'AUDIT.LOG_TOO_SHORT',
        this.treeSize,
        `a checkpoint covers ${c.size} entries, the log has ${this.treeSize}`,
        { checkpointSize: c.size },
      );
    }
    return {
      ok: this.found === undefined,
      size: this.treeSize,
      root: this.root(),
      checkpointsVerified: this.verified,
      ...(this.found ? { finding: this.found } : {}),
    };
  }

  root(): Buffer {
    return this.hashes.length === 0 ? emptyRoot() : foldRightEdge(this.hashes);
  }

  private checkNode(storedNode: StoredNodeLookup, level: number, index: number, hash: Buffer): boolean {
    const stored = storedNode(level, index);
    if (stored !== undefined && hash.equals(stored)) return true;
    const first = index * 2 ** level;
    const where = `node ${level}/${index} (leaves ${first}..${first + 2 ** level - 1})`;
    if (stored === undefined)
      this.fail('AUDIT.NODE_MISSING', first, `${where} is not stored`, { node: { level, index } });
    else
      this.fail('AUDIT.NODE_MISMATCH', first, `${where}: stored hash differs from the leaves'`, {
        node: { level, index },
      });
    return false;
  }

  /** Compares every checkpoint at the current size; false (and a finding) on the first root that differs. */
  private matchCheckpoints(): boolean {
    while (
      this.nextCheckpoint < this.checkpoints.length &&
      this.checkpoints[this.nextCheckpoint].size === this.treeSize
    ) {
      const c = this.checkpoints[this.nextCheckpoint];
      if (!this.root().equals(c.root)) {
        this.fail(
          'AUDIT.ROOT_MISMATCH',
          this.lastVerifiedSize,
          `checkpoint ${c.size}: root differs from the leaves' root; an entry in [${this.lastVerifiedSize}, ${c.size}) was changed`,
          { checkpointSize: c.size },
        );
        return false;
      }
      this.verified += 1;
      this.lastVerifiedSize = c.size;
      this.nextCheckpoint += 1;
    }
    return true;
  }

  private fail(
    code: AuditFindingCode,
    index: number,
    message: string,
    extra: { checkpointSize?: number; node?: NodeRef } = {},
  ): AuditFinding {
    this.found = { code, index, message, ...extra };
    return this.found;
  }
}

/** Audits a whole log held in memory; see LogAuditor for batches. */
export function auditLog(
  entries: Iterable<AuditEntry>,
  checkpoints: readonly AuditedCheckpoint[],
  storedNode?: StoredNodeLookup,
): AuditReport {
  const auditor = new LogAuditor(checkpoints);
  auditor.add(entries, storedNode);
  return auditor.finish();
}
