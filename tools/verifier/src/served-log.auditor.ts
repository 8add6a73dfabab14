/**
 * The whole-log audit of what the log serves, fed one page of entries at a time. The hashing is the ledger library's
 * `LogAuditor` (every stored leaf hash must be the hash of its leaf; the tree grown from the leaves must have the root
 * of every signed checkpoint it passes, the latest one at its end; only the frontier is kept, so memory is O(log n)
 * and time O(n)). Around it, what only the public API raises: hashes that are not canonical base64, entries beyond
 * the checkpoint, and the event id and type served beside each leaf, which must be the ones the leaf commits to.
 *
 * The first entry that fails stops the audit with its index. A leaf rewritten together with its stored hash hashes
 * consistently, so only a root can catch it: the message bounds it between the last checkpoint that matched and the
 * first that did not (pass earlier saved checkpoints with `--old` to narrow it).
 */
import { AuditFinding, LogAuditor } from '@claimchain/ledger';
import { VerifierError } from './verifier.errors';
import { decodeBase64, decodeHash } from './wire.codec';

/** An entry as `GET /v1/ledger/entries` serves it. */
export interface WireEntry {
  readonly index: number;
  readonly eventId?: string;
  readonly eventType?: string;
  readonly leaf: string;
  readonly leafHash: string;
}

/** A signed root (its signature already checked) the audited tree must reproduce at `size` leaves. */
export interface ExpectedRoot {
  readonly size: number;
  readonly root: Buffer;
  /** Names the checkpoint in messages, e.g. "the log's signed checkpoint". */
  readonly label: string;
}

/** A signed root the leaves do not reproduce; `locateRewrite` can narrow it down to a leaf. */
export class RootMismatchError extends VerifierError {
  constructor(
    message: string,
    /** The checkpoint whose root differs. */
    readonly expected: ExpectedRoot,
    /** Leaves below this index are proven by an earlier checkpoint that matched. */
    readonly verifiedUpTo: number,
  ) {
    super('VERIFIER.ROOT_MISMATCH', message);
  }
}

export class ServedLogAuditor {
  private readonly auditor: LogAuditor;
  private readonly bySize = new Map<number, ExpectedRoot>();

  constructor(
    readonly treeSize: number,
    expected: readonly ExpectedRoot[],
  ) {
    for (const e of expected) {
      if (e.size > treeSize) throw new RangeError(`expected root at ${e.size} is beyond the audited size ${treeSize}`);
      const same = this.bySize.get(e.size);
      this.bySize.set(e.size, same ? { ...e, label: `${same.label} and ${e.label}` } : e);
    }
    this.auditor = new LogAuditor(expected);
    this.raise(this.auditor.finding);
  }

  get done(): boolean {
    return this.auditor.size === this.treeSize;
  }

  /** Throws at the first entry, in index order, that does not verify. */
  add(entries: readonly WireEntry[]): void {
    const start = this.auditor.size;
    const decoded: DecodedEntry[] = [];
    let unreadable: VerifierError | undefined;
    for (const [k, entry] of entries.entries()) {
      const read = this.read(entry, start + k);
      if (read instanceof VerifierError) {
        unreadable = read;
        break;
      }
      decoded.push(read);
    }
    // Entries before an unreadable one are still audited first, so the error names the first bad index.
    const finding = this.auditor.add(decoded);
    const hashedUpTo =
      finding === undefined
        ? start + decoded.length
        : finding.code === 'AUDIT.ROOT_MISMATCH'
          ? finding.checkpointSize!
          : finding.index;
    for (let k = 0; start + k < hashedUpTo; k++) checkCommitment(entries[k], decoded[k].leaf);
    this.raise(finding);
    if (unreadable) throw unreadable;
  }

  /** Call once every entry up to the tree size was added; returns the verified root. */
  finish(): Buffer {
    const report = this.auditor.finish();
    this.raise(report.finding);
    return report.root;
  }

  /** The entry's bytes, or why the entry at `index` cannot even be hashed. */
  private read(entry: WireEntry, index: number): DecodedEntry | VerifierError {
    const at = { leafIndex: index };
    if (index >= this.treeSize) {
      return new VerifierError(
        'VERIFIER.RESPONSE_INVALID',
        `leaf ${index}: the log served entries beyond its checkpoint's ${this.treeSize}`,
        at,
      );
    }
    if (entry.index !== index) {
      return new VerifierError(
        'VERIFIER.ENTRY_INVALID',
        `leaf ${index}: the log served entry ${entry.index} in its place`,
        at,
      );
    }
    const leaf = decodeBase64(entry.leaf);
    if (leaf === null) return new VerifierError('VERIFIER.ENTRY_INVALID', `leaf ${index}: leaf is not base64`, at);
    const leafHash = decodeHash(entry.leafHash);
    if (leafHash === null) {
      return new VerifierError(
        'VERIFIER.ENTRY_INVALID',
        `leaf ${index}: stored hash is not the base64 of a 32-byte hash`,
        at,
      );
    }
    return { index, leaf, leafHash };
  }

  private raise(finding: AuditFinding | undefined): void {
    if (finding === undefined) return;
    const { index } = finding;
    switch (finding.code) {
      case 'AUDIT.LEAF_HASH_MISMATCH':
        throw new VerifierError('VERIFIER.LEAF_HASH_MISMATCH', `leaf ${index}: stored hash does not match its leaf`, {
          leafIndex: index,
        });
      case 'AUDIT.INDEX_GAP':
        throw new VerifierError('VERIFIER.ENTRY_INVALID', `leaf ${index}: the log skipped or repeated entries here`, {
          leafIndex: index,
        });
      case 'AUDIT.ROOT_MISMATCH': {
        const size = finding.checkpointSize!;
        const expected = this.bySize.get(size)!;
        throw new RootMismatchError(
          size === 0
            ? `${expected.label} of size 0 does not have the empty tree's root`
            : `leaves 0..${size - 1} do not hash to the root of ${expected.label} (size ${size}): a leaf in ` +
                `${index}..${size - 1} was rewritten together with its stored hash, or leaves were reordered`,
          expected,
          index,
        );
      }
      case 'AUDIT.LOG_TOO_SHORT':
        throw new VerifierError(
          'VERIFIER.RESPONSE_INVALID',
          `leaf ${index}: the log served no entries from here, though its checkpoint has ${finding.checkpointSize}`,
          { leafIndex: index },
        );
      case 'AUDIT.NODE_MISMATCH':
      case 'AUDIT.NODE_MISSING':
        // Stored interior nodes are not on the public API, so the audit never asks about them.
        throw new Error(`unexpected audit finding ${finding.code}: ${finding.message}`);
    }
  }
}

interface DecodedEntry {
  readonly index: number;
  readonly leaf: Buffer;
  readonly leafHash: Buffer;
}

// The id and type served beside a leaf are what an auditor reads; they must be the ones the leaf commits to.
function checkCommitment(entry: WireEntry, leaf: Buffer): void {
  if (entry.eventId === undefined && entry.eventType === undefined) return;
  let commitment: unknown;
  try {
    commitment = JSON.parse(leaf.toString('utf8'));
  } catch {
    commitment = undefined;
  }
  const fields = typeof commitment === 'object' && commitment !== null ? (commitment as Record<string, unknown>) : {};
  for (const [name, served] of [
    ['id', entry.eventId],
    ['type', entry.eventType],
  ] as const) {
    if (served !== undefined && fields[name] !== served) {
      throw new VerifierError(
        'VERIFIER.ENTRY_INVALID',
        `leaf ${entry.index}: served event ${name} ${JSON.stringify(served)} is not the one the leaf commits to`,
        { leafIndex: entry.index },
      );
    }
  }
}
