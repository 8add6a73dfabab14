import { Inject, Injectable } from '@nestjs/common';
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

/**
 * Audits the service's own tables from the inside: every leaf rehashed, every stored subtree recomputed, every
 * signed checkpoint's root matched, reporting the first index that does not match (the pure audit is
 * `LogAuditor` in @claimchain/ledger, which the verifier CLI runs against the public API). Checkpoint signatures
 * are checked with our own verifier key first, so a forged or edited note fails loudly.
 */
@Injectable()
export class LedgerAuditService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(LedgerRepository) private readonly repo: LedgerRepository,
    @Inject(NOTE_SIGNER) private readonly signer: NoteSigner,
  ) {}

  async audit({ checkNodes = true, page = PAGE }: { checkNodes?: boolean; page?: number } = {}): Promise<AuditReport> {
    const em = this.dataSource.manager;
    const auditor = new LogAuditor(await this.verifiedCheckpoints());
    const size = await this.repo.size(em);
    const read = (from: number) =>
      Promise.all([
        this.repo.leafBytesBetween(em, from, Math.min(from + page, size)),
        checkNodes ? this.repo.nodesCompletedBetween(em, from, Math.min(from + page, size)) : undefined,
      ]);
    // Read the next page while hashing this one.
    let next = size > 0 ? read(0) : undefined;
    for (let from = 0; next; from += page) {
      const [entries, nodes] = await next;
      next = from + page < size ? read(from + page) : undefined;
      // A deleted leaf shows as a short page: the auditor names the gap when the next index arrives.
      if (auditor.add(entries.map(toAuditEntry), nodes && lookupOf(nodes))) break;
    }
    await next?.catch(() => undefined);
    return auditor.finish();
  }

  private async verifiedCheckpoints(): Promise<AuditedCheckpoint[]> {
    const verifier = parseVerifierKey(this.signer.verifierKey);
    const rows = await this.repo.checkpointsAfter(this.dataSource.manager, -1, Number.MAX_SAFE_INTEGER);
    return rows.map((row) => {
      const { size, root } = parseCheckpoint(openNote(row.note, [verifier]).text);
      return { size, root };
    });
  }
}

function toAuditEntry(row: { leaf_index: string; leaf: Buffer; leaf_hash: Buffer }): AuditEntry {
  return { index: Number(row.leaf_index), leaf: row.leaf, leafHash: row.leaf_hash };
}

/** Nodes of one page, by level, as dense arrays from each level's first index. */
function lookupOf(nodes: readonly TreeNode[]): StoredNodeLookup {
  const byLevel: { low: number; hashes: Buffer[] }[] = [];
  for (const n of nodes) {
    const level = (byLevel[n.level] ??= { low: n.index, hashes: [] });
    level.low = Math.min(level.low, n.index);
  }
  for (const n of nodes) byLevel[n.level].hashes[n.index - byLevel[n.level].low] = n.hash;
  return (level, index) => {
    const l = byLevel[level];
    return l ? l.hashes[index - l.low] : undefined;
  };
}
