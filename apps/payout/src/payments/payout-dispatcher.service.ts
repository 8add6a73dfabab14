import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Registry } from 'prom-client';
import { PoolClient } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { Topics } from '@claimchain/wire';
import { buildEvent, GroupCommit, listenOn, OutboxWriter } from '@claimchain/messaging';
import { PAYOUT_SOURCE } from '../payout.source';
import { PayoutMetrics } from '../payout.metrics';
import { Settlement, SubmitResult } from './payment-rail';
import { PaymentRails } from './payment-rails';
import { DuePayout, PaymentDispatchRepository, PayoutCause } from './payment-dispatch.repository';

/** The channel a payout that becomes due now is announced on, at its commit (migration PayoutsDueNotify). */
export const PAYOUTS_DUE_CHANNEL = 'claimchain_payouts_due';

export interface PayoutDispatcherOptions {
  batchSize: number;
  /** How long to wait when payouts are due but another dispatcher holds them all (SKIP LOCKED). */
  idlePollMs: number;
  /**
   * The longest an idle dispatcher sleeps without looking: it is woken by a NOTIFY when a payout becomes due now and
   * sleeps until the earliest later one otherwise, so this only bounds a notification lost with its connection.
   */
  maxIdleMs: number;
  /**
   * A sent payout not reported settled by then is submitted again (rails are idempotent by payout id); a payout
   * awaiting a rail is looked at again after it too.
   */
  recheckMs: number;
  /**
   * How long a payout whose attempt began is left alone: its outcome is recorded well before (a rail call is bounded
   * by its timeout), and if the process dies first, the payout is due again after it, on the same rail.
   */
  leaseMs: number;
  /** Backoff after the n-th failed submission: min(baseMs · 2^(n-1), maxMs). */
  retryBaseMs: number;
  retryMaxMs: number;
  /** A released payout refused this many times in all is marked failed (payouts.failed.v1). */
  maxAttempts: number;
}

export const DEFAULT_DISPATCHER_OPTIONS: PayoutDispatcherOptions = {
  batchSize: 50,
  idlePollMs: 100,
  maxIdleMs: 1_000,
  recheckMs: 60_000,
  leaseMs: 60_000,
  retryBaseMs: 500,
  retryMaxMs: 300_000,
  maxAttempts: 8,
};

type Attempt = DuePayout & { rail: string };
type Outcome = { accepted: SubmitResult } | { error: string };

export function backoffMs(attempt: number, o: Pick<PayoutDispatcherOptions, 'retryBaseMs' | 'retryMaxMs'>): number {
  return Math.min(o.retryBaseMs * 2 ** Math.max(attempt - 1, 0), o.retryMaxMs);
}

/**
 * Hands released payouts to their payment rail and records what the rail reports. Each attempt is recorded before
 * its rail is called: due payouts are locked (SKIP LOCKED, so replicas share the work), each gets its rail (chosen
 * once, then kept for good), the attempt is counted and the payout leased (not due again for `leaseMs`), and that
 * commits. Only then are the rails called, outside any transaction, and their outcomes recorded in a second one. A
 * crash between a rail's answer and that commit leaves the payout on its rail, retried there after the lease, so a
 * payout never goes through two rails (ADR 11). Retries survive a restart: nothing about them lives in memory.
 *
 * - no rail (no webhook, no bank): `awaiting-rail`, with why, looked at again every `recheckMs`; never settled.
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
  /** Set by a NOTIFY (a payout due now); a dispatcher about to sleep looks again at once instead. */
  private notified = false;
  /** The dispatcher's own connection, on which it LISTENs for due payouts; reconnected by the loop when lost. */
  private session?: PoolClient;
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
    this.endSession();
    await this.rails.close();
  }

  /** Submits every due payout once; returns how many were handled. Used by the loop and by tests. */
  async dispatchOnce(): Promise<number> {
    const { due, attempts } = await this.dataSource.transaction((em) => this.startAttempts(em));
    if (attempts.length === 0) return due;
    // The rails are called side by side (one slow webhook does not hold up the batch), with no transaction open.
    const outcomes = await Promise.all(attempts.map((attempt) => this.submit(attempt)));
    await this.dataSource.transaction((em) => this.recordOutcomes(em, attempts, outcomes));
    return due;
  }

  /** Locks the due payouts, records each one's rail and attempt (or that it has no rail), and leases them. */
  private async startAttempts(em: EntityManager): Promise<{ due: number; attempts: Attempt[] }> {
    const due = await this.repo.duePayouts(em, this.options.batchSize);
    const attempts: Attempt[] = [];
    const waiting: { payoutId: string; reason: string }[] = [];
    for (const payout of due) {
      const chosen = payout.rail ? { rail: payout.rail } : this.rails.choose(payout);
      if ('rail' in chosen) attempts.push({ ...payout, rail: chosen.rail });
      else waiting.push({ payoutId: payout.payoutId, reason: chosen.none });
    }
    for (const w of waiting) this.logger.warn(`payout ${w.payoutId} waits for a rail: ${w.reason}`);
    await this.repo.markAwaitingRail(em, waiting, this.options.recheckMs);
    await this.repo.startAttempts(em, attempts, this.options.leaseMs);
    return { due: due.length, attempts };
  }

  /** The rails' answers, in one transaction: sent (and settled, for a rail that settles on acceptance) or refused. */
  private async recordOutcomes(em: EntityManager, attempts: Attempt[], outcomes: Outcome[]): Promise<void> {
    const sent: { payoutId: string; reference: string }[] = [];
    const settledOnAcceptance: Settlement[] = [];
    for (const [i, outcome] of outcomes.entries()) {
      const { payoutId } = attempts[i];
      if ('accepted' in outcome) {
        const { reference, settledAt } = outcome.accepted;
        sent.push({ payoutId, reference });
        if (settledAt) settledOnAcceptance.push({ payoutId, reference, settledAt });
      } else {
        await this.recordRefusal(em, attempts[i], outcome.error);
      }
    }
    // The accepted ones in two statements for all: sent, then (a webhook that settles on acceptance) settled.
    await this.repo.markSent(em, sent, this.options.recheckMs);
    // A sent payout rechecked and accepted again is not sent anew.
    const rechecked = new Set(attempts.filter((a) => a.status === 'sent').map((a) => a.payoutId));
    this.metrics.moved(
      em,
      'sent',
      attempts
        .filter((a) => !rechecked.has(a.payoutId) && sent.some((s) => s.payoutId === a.payoutId))
        .map((a) => a.rail),
    );
    if (settledOnAcceptance.length > 0) await this.recordSettlements(em, settledOnAcceptance);
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

  private async submit(attempt: Attempt): Promise<Outcome> {
    const { status: _status, attempts: _attempts, rail, endpoint: _endpoint, ...instruction } = attempt;
    try {
      const chosen = this.rails.railNamed(rail, attempt);
      return { accepted: await chosen.submit(instruction, (s) => this.settled(s)) };
    } catch (error) {
      return { error: String(error) };
    }
  }

  private async recordRefusal(em: EntityManager, attempt: Attempt, error: string): Promise<void> {
    const { payoutId, rail } = attempt;
    // The attempt was counted when it began: `attempts` is the count before it.
    const number = attempt.attempts + 1;
    if (attempt.status !== 'sent' && number >= this.options.maxAttempts) {
      await this.fail(em, attempt, error);
      return;
    }
    this.metrics.refused(em, rail);
    const retryInMs = backoffMs(number, this.options);
    this.logger.warn(
      `payout ${payoutId} not accepted by ${rail} (attempt ${number}), retry in ${retryInMs} ms: ${error}`,
    );
    await this.repo.markRefused(em, { payoutId, error, retryInMs });
  }

  private async fail(em: EntityManager, attempt: Attempt, error: string): Promise<void> {
    const failed = await this.repo.markFailed(em, { payoutId: attempt.payoutId, error });
    if (!failed) return; // settled (or retried by ops) since the attempt began
    this.metrics.refused(em, attempt.rail);
    this.metrics.moved(em, 'failed', [attempt.rail]);
    this.logger.error(
      `payout ${attempt.payoutId} of claim ${attempt.claimId} FAILED after ${failed.attempts} attempts on ${attempt.rail}: ${error}`,
    );
    await this.outbox.add(em, Topics.PayoutsFailed, {
      source: PAYOUT_SOURCE,
      subject: attempt.claimId,
      tenantid: attempt.insurerId,
      time: failed.failedAt,
      ...causeOf(failed),
      data: {
        claimId: attempt.claimId,
        payoutId: attempt.payoutId,
        rail: attempt.rail,
        amount: attempt.amount,
        currency: attempt.currency,
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
            ...causeOf(payout),
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

  /**
   * Dispatches while payouts are due, then sleeps until the next one is (a lease, a backoff, a recheck), a NOTIFY
   * says one is due now, or maxIdleMs pass. Looking costs one index probe and no transaction: an idle dispatcher
   * used to open one every 100 ms to find nothing.
   */
  private async run(): Promise<void> {
    while (this.running) {
      let wait = this.options.idlePollMs;
      if (!this.session) {
        await this.listen().catch((error: unknown) =>
          this.logger.warn(
            `payout dispatcher cannot LISTEN yet (${String(error)}); looking every ${this.options.maxIdleMs} ms`,
          ),
        );
      }
      try {
        this.notified = false; // what was notified before this look is found by it
        const dueIn = await this.repo.msUntilDue(this.dataSource.manager);
        if (dueIn !== undefined && dueIn <= 0) {
          if ((await this.dispatchOnce()) > 0) continue;
        } else wait = Math.min(dueIn ?? Infinity, this.options.maxIdleMs);
      } catch (error) {
        if (this.running) this.logger.error(`dispatch failed: ${String(error)}`);
      }
      if (this.running) await this.sleep(wait);
    }
  }

  /** Opens the dispatcher's session and LISTENs on it; without one it still finds due payouts, within maxIdleMs. */
  private async listen(): Promise<void> {
    this.session = await listenOn(this.dataSource, PAYOUTS_DUE_CHANNEL, {
      onNotify: () => {
        this.notified = true;
        this.wake?.();
      },
      onLost: (client, why) => {
        if (this.session !== client) return;
        this.logger.warn(`payout dispatcher session lost (${why}); reconnecting`);
        this.endSession();
      },
    });
  }

  private endSession(): void {
    const client = this.session;
    this.session = undefined;
    client?.release(true); // destroyed, not pooled: it is still listening
  }

  private sleep(ms: number): Promise<void> {
    if (this.notified) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** A payout's later event is caused by its release and carries its claim's correlation (ADR 20), where kept. */
function causeOf(payout: PayoutCause): { causationid?: string; correlationid?: string } {
  return {
    ...(payout.releasedEventId ? { causationid: payout.releasedEventId } : {}),
    ...(payout.correlationId ? { correlationid: payout.correlationId } : {}),
  };
}
