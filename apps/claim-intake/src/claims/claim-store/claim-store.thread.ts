import { Logger, OnApplicationShutdown } from '@nestjs/common';
import { Worker } from 'node:worker_threads';
import { startWorkerThread } from '@claimchain/runtime';
import type { Outcome, PreparedClaim } from './claim-batch.store';
import type { BatchStore } from './claim-submission.batcher';
import { decodeOutcomes, StoreReply, StoreRequest } from './claim-store.protocol';
import type { ClaimStoreWorkerData } from './claim-store.worker';

/** How long a shutdown waits for the batches in flight before stopping the thread. */
const DRAIN_MS = 10_000;

/**
 * The batcher's store, on a worker thread of its own (claim-store.worker.ts): batches go over as messages and their
 * outcomes come back. If the thread dies, the batches in flight fail (their requests get a 500, and a retry with the
 * same Idempotency-Key is safe) and the next batch starts a new thread.
 */
export class ClaimStoreThread implements BatchStore, OnApplicationShutdown {
  private readonly logger = new Logger(ClaimStoreThread.name);
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (o: Outcome[]) => void; reject: (e: Error) => void }>();
  private closed = false;
  /** Set by close() while it waits for the batches in flight. */
  private drained?: () => void;

  constructor(private readonly data: ClaimStoreWorkerData) {
    this.worker = this.start();
  }

  store(items: PreparedClaim[]): Promise<Outcome[]> {
    if (this.closed) return Promise.reject(new Error('the claim store is shutting down'));
    const worker = (this.worker ??= this.start());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ type: 'store', id, items } satisfies StoreRequest);
    });
  }

  /** After the HTTP server closed (so no request is left waiting on a batch). */
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** Lets the batches in flight finish (up to DRAIN_MS), then stops the thread. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    if (this.pending.size > 0) {
      await Promise.race([
        new Promise<void>((resolve) => (this.drained = resolve)),
        new Promise((resolve) => setTimeout(resolve, DRAIN_MS).unref()),
      ]);
    }
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage({ type: 'close' } satisfies StoreRequest);
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
    await worker.terminate();
  }

  private start(): Worker {
    const worker = startWorkerThread(__filename, 'claim-store.worker', { workerData: this.data });
    worker.on('message', (reply: StoreReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if ('failed' in reply) waiting.reject(new Error(reply.failed));
      else waiting.resolve(decodeOutcomes(reply.outcomes));
      if (this.pending.size === 0) this.drained?.();
    });
    worker.on('error', (error) => this.logger.error(`claim store thread failed: ${error.stack ?? String(error)}`));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      for (const [id, waiting] of this.pending) {
        this.pending.delete(id);
        waiting.reject(new Error(`the claim store thread exited (code ${code}) with this batch in flight`));
      }
      this.drained?.();
    });
    return worker;
  }
}
