import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Registry } from 'prom-client';
import { DataSource, EntityManager } from 'typeorm';
import { Topics } from '@claimchain/contracts';
import { buildEvent, GroupCommit, OutboxWriter } from '@claimchain/messaging';
import { PAYOUT_SOURCE } from '../payout.source';
import { PayoutMetrics } from '../payout.metrics';
import { PaymentRail, Settlement, SubmitResult } from './payment-rail';
import { PaymentRails } from './payment-rails';
import { DuePayout, PaymentDispatchRepository } from './payment-dispatch.repository';

export interface PayoutDispatcherOptions {
  batchSize: number;
  idlePollMs: number;
  /** A sent payout not reported settled by then is submitted again (rails are idempotent by payout id). */
  recheckMs: number;
  /** Backoff after the n-th failed submission: min(baseMs · 2^(n-1), maxMs). */
  retryBaseMs: number;
  retryMaxMs: number;
  /** A released payout refused this many times in all is marked failed (payouts.failed.v1). */
  maxAttempts: number;
}

export const DEFAULT_DISPATCHER_OPTIONS: PayoutDispatcherOptions = {
  batchSize: 50,
  idlePollMs: 100,
  recheckMs: 60_000,
  retryBaseMs: 500,
  retryMaxMs: 300_000,
  maxAttempts: 8,
};

type Outcome = { accepted: SubmitResult; rail: string } | { error: string; rail: string | null };

export function backoffMs(attempt: number, o: Pick<PayoutDispatcherOptions, 'retryBaseMs' | 'retryMaxMs'>): number {
  return Math.min(o.retryBaseMs * 2 ** Math.max(attempt - 1, 0), o.retryMaxMs);
}

/**
 * Hands released payouts to their payment rail and records what the rail reports. Each due payout is locked
 * (SKIP LOCKED, so replicas share the work) while it is submitted, and its attempt count, next attempt time and
 * rail are written in that transaction: retries survive a restart because nothing about them lives in memory.
 *
 * - accepted: `sent`; a rail that settles on acceptance (the webhook's 2xx) is `settled` in the same transaction,
 *   with `payouts.settled.v1`; the bank reports later through `settled()`.
 * - refused: due again after exponential backoff, on the same rail; after `maxAttempts` refusals of a payout no
 *   rail ever accepted, `failed` with `payouts.failed.v1` (ops alert on it). A sent payout being rechecked is never
 *   failed: its rail accepted it once, so money may be moving.
 *
 * Every submission carries the same payout id (the rails' idempotency key) and the payouts table holds one payout
 * per claim, so no retry pays twice; a settlement moves a payout once, so `payouts.settled.v1` is written once.
 */
@Injectable()
export class PayoutDispatcherService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PayoutDispatcherService.name);
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private readonly options: PayoutDispatcherOptions;
  /** Settlement reports that arrive together are recorded in one transaction (a bank reports hundreds a second). */
  private readonly settlements = new GroupCommit<Settlement>((batch) =>
    this.dataSource.transaction((em) => this.recordSettlements(em, batch)),
  );

  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: PaymentDispatchRepository,
    private readonly outbox: OutboxWriter,
    private readonly rails: PaymentRails,
    options: Partial<PayoutDispatcherOptions> = {},
    private readonly metrics: PayoutMetrics = new PayoutMetrics(new Registry()),
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
    await this.rails.close();
  }

  /** Submits every due payout once; returns how many were handled. Used by the loop and by tests. */
  async dispatchOnce(): Promise<number> {
    return this.dataSource.transaction(async (em) => {
      const due = await this.repo.duePayouts(em, this.options.batchSize);
      // The rails are called side by side (one slow webhook does not hold up the batch); the outcomes are then
      // written on this transaction's connection.
      const outcomes = await Promise.all(due.map((payout) => this.submit(payout)));
      const sent: { payoutId: string; rail: string; reference: string }[] = [];
      const settledOnAcceptance: Settlement[] = [];
      for (const [i, outcome] of outcomes.entries()) {
        const { payoutId } = due[i];
        if ('accepted' in outcome) {
          const { reference, settledAt } = outcome.accepted;
          sent.push({ payoutId, rail: outcome.rail, reference });
          if (settledAt) settledOnAcceptance.push({ payoutId, reference, settledAt });
        } else {
          await this.recordRefusal(em, due[i], outcome);
        }
      }
      // The accepted ones in two statements for all: sent, then (a webhook that settles on acceptance) settled.
      await this.repo.markSent(em, sent, this.options.recheckMs);
      // A sent payout rechecked and accepted again is not sent anew.
      const released = new Set(due.filter((p) => p.status === 'released').map((p) => p.payoutId));
      this.metrics.moved(
        em,
        'sent',
        sent.filter((s) => released.has(s.payoutId)).map((s) => s.rail),
      );
      if (settledOnAcceptance.length > 0) await this.recordSettlements(em, settledOnAcceptance);
      return due.length;
    });
  }

  /**
   * The rail's later settlement report (the simulated bank's); resolves once it is recorded. Reports that arrive
   * together share a transaction; if that fails, each is recorded alone, so one bad report fails only itself.
   */
  async settled(settlement: Settlement): Promise<void> {
    try {
      await this.settlements.commit(settlement);
    } catch {
      await this.dataSource.transaction((em) => this.recordSettlements(em, [settlement]));
    }
  }

  private async submit(payout: DuePayout): Promise<Outcome> {
    const { status: _status, attempts: _attempts, rail: _rail, endpoint: _endpoint, ...instruction } = payout;
    let rail: PaymentRail | undefined;
    try {
      rail = this.rails.railFor(payout);
      return { accepted: await rail.submit(instruction, (s) => this.settled(s)), rail: rail.name };
    } catch (error) {
      // null when no rail could be chosen (e.g. the secret would not open): the next attempt chooses again.
      return { error: String(error), rail: rail?.name ?? payout.rail };
    }
  }

  private async recordRefusal(
    em: EntityManager,
    payout: DuePayout,
    { error, rail }: { error: string; rail: string | null },
  ): Promise<void> {
    const { payoutId } = payout;
    const attempt = payout.attempts + 1;
    if (payout.status === 'released' && attempt >= this.options.maxAttempts) {
      await this.fail(em, payout, rail, error);
      return;
    }
    this.metrics.refused(em, rail);
    const retryInMs = backoffMs(attempt, this.options);
    this.logger.warn(
      `payout ${payoutId} not accepted by ${rail ?? 'any rail'} (attempt ${attempt}), retry in ${retryInMs} ms: ${error}`,
    );
    await this.repo.markRefused(em, { payoutId, rail, error, retryInMs });
  }

  private async fail(em: EntityManager, payout: DuePayout, railName: string | null, error: string): Promise<void> {
    const rail = railName ?? 'unresolved';
    const failed = await this.repo.markFailed(em, { payoutId: payout.payoutId, rail: railName, error });
    this.metrics.refused(em, railName);
    this.metrics.moved(em, 'failed', [railName]);
    this.logger.error(
      `payout ${payout.payoutId} of claim ${payout.claimId} FAILED after ${failed.attempts} attempts on ${rail}: ${error}`,
    );
    await this.outbox.add(em, Topics.PayoutsFailed, {
      source: PAYOUT_SOURCE,
      subject: payout.claimId,
      tenantid: payout.insurerId,
      time: failed.failedAt,
      data: {
        claimId: payout.claimId,
        payoutId: payout.payoutId,
        rail,
        amount: payout.amount,
        currency: payout.currency,
        attempts: failed.attempts,
        lastError: error.slice(0, 1000),
        failedAt: new Date(failed.failedAt).toISOString(),
      },
    });
  }

  /** Settles the payouts (each once) and announces each that moved with payouts.settled.v1, in one statement each. */
  private async recordSettlements(em: EntityManager, settlements: readonly Settlement[]): Promise<void> {
    const settled = await this.repo.markSettled(em, settlements);
    this.metrics.moved(
      em,
      'settled',
      settled.map((p) => p.rail),
    );
    await this.outbox.addBuilt(
      em,
      settled.map((payout) => {
        const settledAt = new Date(payout.settledAt);
        return {
          topic: Topics.PayoutsSettled,
          event: buildEvent(Topics.PayoutsSettled, {
            source: PAYOUT_SOURCE,
            subject: payout.claimId,
            tenantid: payout.insurerId,
            time: settledAt,
            data: {
              claimId: payout.claimId,
              payoutId: payout.payoutId,
              rail: payout.rail,
              reference: payout.reference,
              amount: payout.amount,
              currency: payout.currency,
              settledAt: settledAt.toISOString(),
            },
          }),
        };
      }),
    );
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
