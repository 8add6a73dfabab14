import { Logger } from '@nestjs/common';
import { DomainError, StoredResponse } from '@claimchain/http';
import type { Outcome, PreparedClaim, SubmittedClaimDto } from './claim-batch.store';

export type { PreparedClaim, SubmittedClaimDto } from './claim-batch.store';

/** Where batches are stored: ClaimStoreThread (a ClaimBatchStore on a worker thread). */
export interface BatchStore {
  store(items: PreparedClaim[]): Promise<Outcome[]>;
}

interface Pending {
  prepared: PreparedClaim;
  resolve: (r: StoredResponse<SubmittedClaimDto>) => void;
  reject: (e: unknown) => void;
}

const MAX_BATCH = 256;
/**
 * Two transactions in flight: one fills while the other commits. Measured (bench:claims, 2 cores): 2 gave the most
 * claims/s and the least Postgres CPU per claim; 3 made smaller batches that contend on locks and cost more.
 */
const MAX_CONCURRENT_BATCHES = 2;
/** What a refused client is told to wait: a batch takes milliseconds, so the queue has moved on by then. */
const RETRY_AFTER_SECONDS = 1;

/**
 * Group commit for claim intake. Every accepted claim must be durable before its 202, and a commit (an fsync) per
 * request caps a 2-core machine far below the intake target; so submissions that arrive while a transaction is in
 * flight wait for the next one, and each batch is stored in one transaction (ClaimBatchStore, which keeps the
 * semantics of storing each request alone). The store runs on a worker thread (ClaimStoreThread): on this thread
 * every one of its round trips to Postgres would wait behind the HTTP work queued meanwhile, which made a batch's
 * transaction several times longer than the database's part of it.
 *
 * The queue is bounded (`maxQueued` submissions waiting for a batch): when Postgres is slow or away, a submission
 * beyond it is refused at once with a 503 and Retry-After, rather than every request waiting on a queue (and a
 * heap) that grows for as long as the outage lasts.
 */
export class ClaimSubmissionBatcher {
  private readonly logger = new Logger(ClaimSubmissionBatcher.name);
  private queue: Pending[] = [];
  private running = 0;

  constructor(
    private readonly store: BatchStore,
    private readonly maxQueued: number,
  ) {}

  submit(prepared: PreparedClaim): Promise<StoredResponse<SubmittedClaimDto>> {
    if (this.queue.length >= this.maxQueued) {
      return Promise.reject(
        new DomainError(
          'CLAIM.QUEUE_FULL',
          'unavailable',
          'Too many claims are waiting to be stored: retry shortly with the same Idempotency-Key',
          [],
          RETRY_AFTER_SECONDS,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ prepared, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < MAX_CONCURRENT_BATCHES && this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.running += 1;
      void this.flush(batch).finally(() => {
        this.running -= 1;
        this.pump();
      });
    }
  }

  private async flush(batch: Pending[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await this.store.store(batch.map((p) => p.prepared));
    } catch (error) {
      this.logger.error(`a batch of ${batch.length} claims failed: ${String(error)}`);
      outcomes = batch.map(() => ({ ok: false, error }));
    }
    batch.forEach((p, i) => {
      const o = outcomes[i];
      if (o.ok) p.resolve(o.response);
      else p.reject(o.error);
    });
  }
}
