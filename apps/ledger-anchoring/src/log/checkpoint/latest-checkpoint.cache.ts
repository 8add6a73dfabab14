import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LedgerRepository } from '../../persistence/ledger.repository';
import { SignedCheckpoint } from '../anchor/anchor-sink';
import { toSignedCheckpoint } from './signed-checkpoint.mapper';

/** How stale the latest checkpoint may be when another replica signed it; this replica's own are seen at once. */
const MAX_AGE_MS = 100;

/**
 * The latest signed checkpoint, read at most every 100 ms however many proofs are served. The checkpointer
 * replaces it the moment it commits one; readers ask for a fresh read when a request names a larger tree.
 */
@Injectable()
export class LatestCheckpointCache {
  private cached?: { checkpoint: SignedCheckpoint | undefined; at: number };

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(LedgerRepository) private readonly repo: LedgerRepository,
  ) {}

  async get({ fresh = false }: { fresh?: boolean } = {}): Promise<SignedCheckpoint | undefined> {
    const now = Date.now();
    if (fresh || !this.cached || now - this.cached.at >= MAX_AGE_MS) {
      const row = await this.repo.latestCheckpoint(this.dataSource.manager);
      this.cached = { checkpoint: row && toSignedCheckpoint(row), at: now };
    }
    return this.cached.checkpoint;
  }

  /** Called after a checkpoint commits. */
  forget(): void {
    this.cached = undefined;
  }
}
