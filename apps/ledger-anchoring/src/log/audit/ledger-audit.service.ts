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

const PAGE = 20_000;

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
    // Read the next page while hashing this one.
    let next = size > 0 ? read(0) : undefined;
    for (let from = 0; next; from += page) {
      const [rows, nodes, leafNodes] = await next;
      next = from + page < size ? read(from + page) : undefined;
      const entries = rows.map(toAuditEntry);
      // A deleted leaf shows as a short page: the auditor names the gap when the next index arrives.
      if (auditor.add(entries, nodes && lookupOf(nodes, entries, leafNodes!))) break;
    }
    await next?.catch(() => undefined);
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

function toAuditEntry(row: { leaf_index: string; leaf: Buffer; leaf_hash: Buffer }): AuditEntry {
  return { index: Number(row.leaf_index), leaf: row.leaf, leafHash: row.leaf_hash };
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
