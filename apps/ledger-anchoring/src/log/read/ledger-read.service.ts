import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainError } from '@claimchain/http';
import {
  assembleConsistencyProof,
  assembleInclusionProof,
  consistencyProofRefs,
  inclusionProofRefs,
} from '@claimchain/ledger';
import { LedgerRepository, PostgresSubtreeReader, StoredEntry } from '../../persistence/ledger.repository';
import { SignedCheckpoint } from '../anchor/anchor-sink';
import { LatestCheckpointCache } from '../checkpoint/latest-checkpoint.cache';
import { CoalescingSubtreeReader } from './coalescing-subtree.reader';
import {
  b64,
  CheckpointDto,
  ConsistencyProofDto,
  EntriesDto,
  EntryDto,
  InclusionProofDto,
  ReceiptDto,
} from './ledger-read.dto';

/**
 * The public log as auditors see it: only what a signed checkpoint covers. A proof is one batched read of O(log n)
 * stored subtree hashes (the leaf's own hash is the level-0 node, read in the same query), merged with concurrent
 * requests' reads and minus the upper nodes already held (CoalescingSubtreeReader). The latest checkpoint comes from
 * a short-lived cache, reread whenever a request names a larger tree.
 */
@Injectable()
export class LedgerReadService {
  private readonly nodes: CoalescingSubtreeReader;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(LedgerRepository) private readonly repo: LedgerRepository,
    @Inject(LatestCheckpointCache) private readonly checkpoints: LatestCheckpointCache,
  ) {
    this.nodes = new CoalescingSubtreeReader(new PostgresSubtreeReader(dataSource.manager));
  }

  async latestCheckpoint(): Promise<CheckpointDto> {
    const c = await this.latest();
    if (!c) throw new DomainError('LEDGER.NO_CHECKPOINT', 'not-found', 'No checkpoint has been signed yet');
    return { origin: c.origin, treeSize: c.treeSize, rootHash: b64(c.rootHash), note: c.note };
  }

  async entries(start: number, end: number): Promise<EntriesDto> {
    const covered = Math.min(end, (await this.latest())?.treeSize ?? 0);
    if (start >= covered) return { entries: [] };
    const rows = await this.repo.entriesBetween(this.dataSource.manager, start, covered);
    return { entries: rows.map(toEntryDto) };
  }

  async inclusionByIndex(index: number, treeSize?: number): Promise<InclusionProofDto> {
    const size = await this.coveredSize(treeSize, '/treeSize');
    if (index >= size) {
      throw new DomainError('LEDGER.INDEX_OUT_OF_RANGE', 'unprocessable', 'index must be below treeSize', [
        { pointer: '/index', detail: `below ${size}` },
      ]);
    }
    const { leafHash, hashes } = await this.inclusion(index, size);
    return { leafIndex: index, treeSize: size, leafHash: b64(leafHash), hashes: hashes.map(b64) };
  }

  async inclusionByLeafHash(leafHash: Buffer, treeSize?: number): Promise<InclusionProofDto> {
    const size = await this.coveredSize(treeSize, '/treeSize');
    const index = await this.repo.indexOfLeafHash(this.dataSource.manager, leafHash);
    if (index === undefined || index >= size) {
      throw new DomainError(
        'LEDGER.LEAF_NOT_FOUND',
        'not-found',
        `No leaf with this hash in the tree of size ${size}`,
        [{ pointer: '/leafHash', detail: 'not in the log' }],
      );
    }
    return this.inclusionByIndex(index, size);
  }

  async consistency(from: number, to: number): Promise<ConsistencyProofDto> {
    await this.coveredSize(to, '/to');
    const refs = consistencyProofRefs(from, to);
    const nodes = await this.nodes.getMany(refs.flat());
    return { from, to, hashes: assembleConsistencyProof(refs, nodes).map(b64) };
  }

  async receipt(eventId: string): Promise<ReceiptDto> {
    const entry = await this.repo.entryByEventId(this.dataSource.manager, eventId);
    if (!entry) throw new DomainError('LEDGER.EVENT_NOT_FOUND', 'not-found', `Event ${eventId} is not in the log`);
    const index = Number(entry.leaf_index);
    let checkpoint = await this.latest();
    if (!checkpoint || checkpoint.treeSize <= index) checkpoint = await this.latest(true);
    if (!checkpoint || checkpoint.treeSize <= index) {
      throw new DomainError(
        'LEDGER.EVENT_NOT_ANCHORED',
        'not-found',
        `Event ${eventId} is in the log but no signed checkpoint covers it yet`,
      );
    }
    const { hashes } = await this.inclusion(index, checkpoint.treeSize);
    const { leaf, leafHash } = toEntryDto(entry);
    return {
      eventId: entry.event_id,
      leafIndex: index,
      leaf,
      leafHash,
      treeSize: checkpoint.treeSize,
      inclusionProof: hashes.map(b64),
      checkpoint: checkpoint.note,
    };
  }

  /** The proof and the leaf's hash in one read: the leaf hash is stored as node (0, index). */
  private async inclusion(index: number, size: number): Promise<{ leafHash: Buffer; hashes: Buffer[] }> {
    const refs = inclusionProofRefs(index, size);
    const nodes = await this.nodes.getMany([{ level: 0, index }, ...refs.flat()]);
    return { leafHash: nodes[0], hashes: assembleInclusionProof(refs, nodes.slice(1)) };
  }

  /** `treeSize`, or the latest checkpoint's when absent; refused unless a signed checkpoint has that size or more. */
  private async coveredSize(treeSize: number | undefined, pointer: string): Promise<number> {
    let latest = await this.latest();
    if (treeSize !== undefined && treeSize > (latest?.treeSize ?? 0)) latest = await this.latest(true);
    const checkpointed = latest?.treeSize ?? 0;
    if (treeSize === undefined && checkpointed === 0) {
      throw new DomainError('LEDGER.NO_CHECKPOINT', 'not-found', 'No checkpoint has been signed yet');
    }
    if (treeSize !== undefined && treeSize > checkpointed) {
      throw new DomainError('LEDGER.TREE_SIZE_UNKNOWN', 'unprocessable', `No checkpoint covers tree size ${treeSize}`, [
        { pointer, detail: `at most ${checkpointed}` },
      ]);
    }
    return treeSize ?? checkpointed;
  }

  private async latest(fresh = false): Promise<SignedCheckpoint | undefined> {
    return this.checkpoints.get({ fresh });
  }
}

function toEntryDto(row: StoredEntry): EntryDto {
  return {
    index: Number(row.leaf_index),
    eventId: row.event_id,
    eventType: row.event_type,
    leaf: b64(row.leaf),
    leafHash: b64(row.leaf_hash),
  };
}
