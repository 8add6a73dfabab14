import { BeforeApplicationShutdown, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConfirmationsRepository } from '../confirmations.repository';
import { claimNotReceived } from '../confirmation-reasons';

export interface PendingExpirySettings {
  /** How long a confirmation waits for its claim (PENDING_CONFIRMATION_TTL_HOURS). */
  ttlMs: number;
  intervalMs: number;
  /** Rows per UPDATE: each is a short transaction of its own. */
  batchSize: number;
}

/**
 * Ends confirmations that waited longer than their time for a claim (`expired`, with a reason their provider reads),
 * so that claims that never come cannot hold a provider's pending quota for ever. A cheap periodic sweep over the
 * pending rows' age index, in small batches; one whose claim is being decided at that moment is left for the next
 * sweep, by which time it is no longer pending. Replicas may sweep at once: a row is expired once whoever gets it.
 */
export class PendingConfirmationsExpiry implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(PendingConfirmationsExpiry.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopping = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: ConfirmationsRepository,
    private readonly settings: PendingExpirySettings,
  ) {}

  onApplicationBootstrap(): void {
    this.stopping = false;
    this.schedule();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One sweep: expires every confirmation pending since before `now - ttl`; returns how many. */
  async expireOnce(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.settings.ttlMs);
    const reason = claimNotReceived(this.settings.ttlMs);
    let total = 0;
    for (;;) {
      const n = await this.repo.expirePending(this.dataSource.manager, cutoff, this.settings.batchSize, reason);
      total += n;
      if (n < this.settings.batchSize || this.stopping) break;
    }
    if (total > 0) this.logger.log(`expired ${total} confirmation(s) pending since before ${cutoff.toISOString()}`);
    return total;
  }

  private schedule(): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.running = this.expireOnce()
        .catch((error: unknown) =>
          this.logger.warn(`expiring pending confirmations failed, trying again later: ${String(error)}`),
        )
        .finally(() => this.schedule());
    }, this.settings.intervalMs);
    this.timer.unref();
  }
}
