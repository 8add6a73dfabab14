import { Global, Module } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import { DataSource, EntityManager } from 'typeorm';
import { afterCommit, MetricsRegistry } from '@claimchain/observability';

/** The rail label of a payout no rail was chosen for (e.g. its webhook secret would not open). */
export const NO_RAIL = 'unresolved';

/**
 * What payout decides and pays, counted once the transaction that decided it commits (afterCommit: a batch that
 * rolls back and is retried counts once), and the ledger circuit breaker's state, read when Prometheus scrapes.
 * - adjudications by decision (approved, partial, denied, pended);
 * - payouts by the status they entered (released when decided; sent, settled, failed by the payment rail) and rail;
 * - payment failures: each submission a rail refused (a payout is retried until it settles or is failed).
 */
export class PayoutMetrics {
  private readonly adjudications: Counter<'decision'>;
  private readonly payouts: Counter<'status' | 'rail'>;
  private readonly paymentFailures: Counter<'rail'>;

  constructor(registry: Registry, dataSource?: DataSource) {
    this.adjudications = new Counter({
      name: 'claimchain_adjudications_total',
      help: 'Claims adjudicated, by decision (approved, partial, denied, pended)',
      labelNames: ['decision'],
      registers: [registry],
    });
    this.payouts = new Counter({
      name: 'claimchain_payouts_total',
      help: 'Payouts entering a status (released, sent, settled, failed), by payment rail (none before one is chosen)',
      labelNames: ['status', 'rail'],
      registers: [registry],
    });
    this.paymentFailures = new Counter({
      name: 'claimchain_payment_failures_total',
      help: 'Payment submissions a rail refused or that failed before reaching one, by rail',
      labelNames: ['rail'],
      registers: [registry],
    });
    new Gauge({
      name: 'claimchain_payout_claims_held',
      help: 'Claims payout holds undecided for a reason of their own (ADR 23): GET /v1/ops/held-claims says why',
      registers: [registry],
      async collect() {
        if (!dataSource) return;
        const [row]: { n: number }[] = await dataSource.query(`SELECT count(*)::int AS n FROM held_claims`);
        this.set(row?.n ?? 0);
      },
    });
    new Gauge({
      name: 'claimchain_ledger_circuit_open',
      help: "1 while payout's ledger circuit breaker is open (no claim is paid until ops reset it), else 0",
      registers: [registry],
      async collect() {
        if (!dataSource) return;
        const [row]: { open: boolean }[] = await dataSource.query(`SELECT open FROM ledger_circuit WHERE id = 1`);
        this.set(row?.open ? 1 : 0);
      },
    });
  }

  /** Decisions written in `em`'s transaction, and the payouts they released. */
  decided(em: EntityManager, decisions: readonly { decision: string }[], released: number): void {
    afterCommit(em, () => {
      for (const { decision } of decisions) this.adjudications.inc({ decision });
      if (released > 0) this.payouts.inc({ status: 'released', rail: 'none' }, released);
    });
  }

  /** Payouts that entered `status` (sent, settled, failed) on their rails in `em`'s transaction. */
  moved(em: EntityManager, status: 'sent' | 'settled' | 'failed', rails: readonly (string | null)[]): void {
    if (rails.length === 0) return;
    afterCommit(em, () => {
      for (const rail of rails) this.payouts.inc({ status, rail: rail ?? NO_RAIL });
    });
  }

  /** A submission refused by `rail` (or failed before one was chosen), recorded in `em`'s transaction. */
  refused(em: EntityManager, rail: string | null): void {
    afterCommit(em, () => this.paymentFailures.inc({ rail: rail ?? NO_RAIL }));
  }
}

/** PayoutMetrics for every payout feature, on the service's registry. */
@Global()
@Module({
  providers: [
    {
      provide: PayoutMetrics,
      inject: [MetricsRegistry, DataSource],
      useFactory: (registry: MetricsRegistry, ds: DataSource) => new PayoutMetrics(registry, ds),
    },
  ],
  exports: [PayoutMetrics],
})
export class PayoutMetricsModule {}
