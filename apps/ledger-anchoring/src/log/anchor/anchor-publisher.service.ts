import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LedgerRepository } from '../../persistence/ledger.repository';
import { toSignedCheckpoint } from '../checkpoint/signed-checkpoint.mapper';
import { ANCHOR_SINKS, AnchorSink } from './anchor-sink';

/** Checkpoints handed to one sink per round; a long backlog drains over several rounds. */
const BATCH = 100;
/** A sink that hangs counts as failed, so it cannot stall its own retries. */
const PUBLISH_TIMEOUT_MS = 10_000;
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 30_000;

/**
 * Hands committed checkpoints to every anchor sink, in order, after they commit and outside the checkpoint's
 * transaction: a slow or failing sink never delays the log or the next checkpoint. Each sink's progress is stored
 * (`ledger_anchor_sinks`), so a failure is retried with backoff and a restart or a new leader resumes where the
 * last one stopped.
 */
@Injectable()
export class AnchorPublisher {
  private readonly logger = new Logger(AnchorPublisher.name);
  private draining?: Promise<void>;
  private again = false;
  private stopped = false;
  private readonly retryAt = new Map<string, { at: number; delay: number }>();
  private retryTimer?: { handle: NodeJS.Timeout; at: number };

  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: LedgerRepository,
    @Inject(ANCHOR_SINKS) private readonly sinks: readonly AnchorSink[],
  ) {}

  /** Starts a drain, or asks the running one to go round again. Never throws, never waits for the sinks. */
  kick(): void {
    if (this.stopped || this.sinks.length === 0) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain().finally(() => (this.draining = undefined));
  }

  /** Resolves once the drain in flight (if any) is done; for shutdown and tests. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer?.handle);
    await this.idle();
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      for (const sink of this.sinks) {
        if (this.stopped) return;
        const retry = this.retryAt.get(sink.name);
        if (retry && retry.at > Date.now()) {
          this.scheduleRetry(retry.at - Date.now());
          continue;
        }
        try {
          if (await this.publishBatch(sink)) this.again = true;
          this.retryAt.delete(sink.name);
        } catch (error) {
          const delay = Math.min((retry?.delay ?? RETRY_BASE_MS / 2) * 2, RETRY_MAX_MS);
          this.retryAt.set(sink.name, { at: Date.now() + delay, delay });
          this.logger.warn(`anchor sink ${sink.name} failed, retrying in ${delay} ms: ${String(error)}`);
          this.scheduleRetry(delay);
        }
      }
    } while (this.again && !this.stopped);
  }

  /** Publishes the next checkpoints this sink lacks; true when it may lack more. */
  private async publishBatch(sink: AnchorSink): Promise<boolean> {
    const em = this.dataSource.manager;
    const from = await this.repo.anchoredSize(em, sink.name);
    const pending = await this.repo.checkpointsAfter(em, from, BATCH);
    for (const stored of pending) {
      const checkpoint = toSignedCheckpoint(stored);
      await withTimeout(
        sink.publish(checkpoint),
        PUBLISH_TIMEOUT_MS,
        `${sink.name} took over ${PUBLISH_TIMEOUT_MS} ms`,
      );
      await this.repo.markAnchored(em, sink.name, checkpoint.treeSize);
    }
    return pending.length === BATCH;
  }

  /** Keeps one timer, for the earliest sink due. */
  private scheduleRetry(delay: number): void {
    const at = Date.now() + delay;
    if (this.retryTimer && this.retryTimer.at <= at) return;
    clearTimeout(this.retryTimer?.handle);
    const handle = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, delay);
    handle.unref();
    this.retryTimer = { handle, at };
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
