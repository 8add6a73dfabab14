import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  AuditedCheckpoint,
  AuditEntry,
  AuditReport,
  LogAuditor,
  NoteSigner,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  StoredNodeLookup,
  TreeNode,
} from '@claimchain/ledger';
import { LedgerRepository } from '../../persistence/ledger.repository';
import { NOTE_SIGNER } from '../checkpoint/note-signer.provider';

/** Leaves per read: small enough that the first page (not overlapped with hashing) is short. */
const PAGE = 4096;
/** Pages in flight ahead of the one being hashed. */
const READ_AHEAD = 2;

export const EARLIER_VERIFIER_KEYS = Symbol('EARLIER_VERIFIER_KEYS');

/**
 * Audits the service's own tables from the inside: every leaf rehashed, every stored subtree recomputed, every
 * signed checkpoint's root matched, reporting the first index that does not match (the pure audit is
 * `LogAuditor` in @claimchain/ledger, which the verifier CLI runs against the public API). Checkpoint signatures
 * are checked with our own verifier key and the earlier ones configured (after a rotation), so a forged or edited
 * note fails loudly.
 */
@Injectable()
export class LedgerAuditService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(LedgerRepository) private readonly repo: LedgerRepository,
    @Inject(NOTE_SIGNER) private readonly signer: NoteSigner,
    /** Earlier verifier keys (LEDGER_VERIFIER_KEY): checkpoints signed before a key rotation still verify. */
    @Optional() @Inject(EARLIER_VERIFIER_KEYS) private readonly earlierKeys: readonly string[] = [],
  ) {}

  async audit({ checkNodes = true, page = PAGE }: { checkNodes?: boolean; page?: number } = {}): Promise<AuditReport> {
    const em = this.dataSource.manager;
    const auditor = new LogAuditor(await this.verifiedCheckpoints());
    const size = await this.repo.size(em);
    // Level-0 nodes are leaf hashes again: Postgres compares them with the leaves' and sends only the ones that
    // differ or are missing, so a page reads each leaf hash once and the nodes of level 1 up.
    const read = (from: number) => {
      const to = Math.min(from + page, size);
      return Promise.all([
        this.repo.leafBytesBetween(em, from, to),
        checkNodes ? this.repo.nodesCompletedBetween(em, from, to, { fromLevel: 1 }) : undefined,
        checkNodes ? this.repo.leafNodeMismatches(em, from, to) : undefined,
      ]);
    };
    // Pages are read ahead while this one is hashed, on pool connections of their own, so Postgres (on the other
    // core) packs the next pages while this thread hashes.
    const ahead: ReturnType<typeof read>[] = [];
    let nextFrom = 0;
    const refill = () => {
      for (; ahead.length < READ_AHEAD && nextFrom < size; nextFrom += page) ahead.push(read(nextFrom));
    };
    refill();
    while (ahead.length > 0) {
      const [entries, nodes, leafNodes] = await ahead.shift()!;
      refill();
      // A deleted leaf shows as a short page: the auditor names the gap when the next index arrives.
      if (auditor.add(entries, nodes && lookupOf(nodes, entries, leafNodes!))) break;
    }
    await Promise.allSettled(ahead);
    return auditor.finish();
  }

  private async verifiedCheckpoints(): Promise<AuditedCheckpoint[]> {
    // The configured list usually names the signing key too (npm start sets it for every service): once is enough,
    // since a note refuses two verifiers for one key as ambiguous.
    const verifiers = [...new Set([this.signer.verifierKey, ...this.earlierKeys])].map(parseVerifierKey);
    const rows = await this.repo.checkpointsAfter(this.dataSource.manager, -1, Number.MAX_SAFE_INTEGER);
    return rows.map((row) => {
      const { size, root } = parseCheckpoint(openNote(row.note, verifiers).text);
      return { size, root };
    });
  }
}

/**
 * Nodes of one page, by level, as dense arrays from each level's first index. Level 0 is each entry's stored leaf
 * hash, unless Postgres found that leaf's level-0 node missing (undefined) or different (that hash).
 */
function lookupOf(
  nodes: readonly TreeNode[],
  entries: readonly AuditEntry[],
  leafNodes: ReadonlyMap<number, Buffer | undefined>,
): StoredNodeLookup {
  const byLevel: { low: number; hashes: Buffer[] }[] = [];
  for (const n of nodes) {
    const level = (byLevel[n.level] ??= { low: n.index, hashes: [] });
    level.low = Math.min(level.low, n.index);
  }
  for (const n of nodes) byLevel[n.level].hashes[n.index - byLevel[n.level].low] = n.hash;
  const first = entries.length > 0 ? entries[0].index : 0;
  return (level, index) => {
    if (level === 0) {
      if (leafNodes.has(index)) return leafNodes.get(index);
      return entries[index - first]?.index === index ? entries[index - first].leafHash : undefined;
    }
    const l = byLevel[level];
    return l ? l.hashes[index - l.low] : undefined;
  };
}
