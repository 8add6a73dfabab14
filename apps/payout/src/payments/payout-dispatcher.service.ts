import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Topics } from '@claimchain/contracts';
import { OutboxWriter } from '@claimchain/messaging';
import { PayoutRepository } from '../persistence/payout.repository';
import { PAYOUT_SOURCE } from '../adjudication/adjudicate-claim.service';
import { PAYMENT_RAIL, PaymentRail, Settlement } from './payment-rail';

export interface PayoutDispatcherOptions {
  batchSize: number;
  idlePollMs: number;
  /** A sent payout not reported settled by then is submitted again (rails are idempotent by payout id). */
  recheckMs: number;
  /** Backoff after the n-th failed submission: min(baseMs · 2^(n-1), maxMs). */
  retryBaseMs: number;
  retryMaxMs: number;
}

export const DEFAULT_DISPATCHER_OPTIONS: PayoutDispatcherOptions = {
  batchSize: 50,
  idlePollMs: 100,
  recheckMs: 60_000,
  retryBaseMs: 500,
  retryMaxMs: 60_000,
};

export function backoffMs(attempt: number, o: Pick<PayoutDispatcherOptions, 'retryBaseMs' | 'retryMaxMs'>): number {
  return Math.min(o.retryBaseMs * 2 ** Math.max(attempt - 1, 0), o.retryMaxMs);
}

/**
 * Hands released payouts to the payment rail and records what the rail reports. Each due payout is locked
 * (SKIP LOCKED, so replicas share the work) while it is submitted; a failure is retried with exponential backoff.
 * A settlement report moves the payout from sent to settled and writes `payouts.settled.v1` in one transaction,
 * once: a repeated report finds nothing to move.
 */
@Injectable()
export class PayoutDispatcherService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PayoutDispatcherService.name);
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private readonly options: PayoutDispatcherOptions;

  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: PayoutRepository,
    private readonly outbox: OutboxWriter,
    @Inject(PAYMENT_RAIL) private readonly rail: PaymentRail,
    options: Partial<PayoutDispatcherOptions> = {},
  ) {
    this.options = { ...DEFAULT_DISPATCHER_OPTIONS, ...options };
  }

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  // Before any onApplicationShutdown: the database is still open while the loop and settlement reports finish.
  async onModuleDestroy(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.rail.close();
  }

  /** Submits every due payout once; returns how many were handled. Used by the loop and by tests. */
  async dispatchOnce(): Promise<number> {
    return this.dataSource.transaction(async (em) => {
      const due = await this.repo.duePayouts(em, this.options.batchSize);
      for (const { attempts, ...instruction } of due) {
        try {
          const { reference } = await this.rail.submit(instruction, (s) => this.settled(s));
          await this.repo.markSent(em, instruction.payoutId, this.rail.name, reference, this.options.recheckMs);
        } catch (error) {
          const retryIn = backoffMs(attempts + 1, this.options);
          this.logger.warn(
            `payout ${instruction.payoutId} not accepted by ${this.rail.name}, retry in ${retryIn} ms: ${String(error)}`,
          );
          await this.repo.markFailed(em, instruction.payoutId, String(error), retryIn);
        }
      }
      return due.length;
    });
  }

  /** The rail's settlement report. */
  async settled(settlement: Settlement): Promise<void> {
    await this.dataSource.transaction(async (em) => {
      const payout = await this.repo.markSettled(em, settlement);
      if (!payout) return;
      await this.outbox.add(em, Topics.PayoutsSettled, {
        source: PAYOUT_SOURCE,
        subject: payout.claimId,
        tenantid: payout.insurerId,
        time: settlement.settledAt,
        data: {
          claimId: payout.claimId,
          payoutId: payout.payoutId,
          rail: payout.rail,
          reference: settlement.reference,
          amount: payout.amount,
          currency: payout.currency,
          settledAt: settlement.settledAt.toISOString(),
        },
      });
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      let handled = 0;
      try {
        handled = await this.dispatchOnce();
      } catch (error) {
        if (this.running) this.logger.error(`dispatch failed: ${String(error)}`);
      }
      if (handled === 0 && this.running) await this.sleep(this.options.idlePollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
