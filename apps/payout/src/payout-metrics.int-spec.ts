import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { v4 as uuidv4, v7 as uuidv7 } from 'uuid';
import { Topics } from '@claimchain/wire';
import { buildEvent } from '@claimchain/messaging';
import { runAfterCommits } from '@claimchain/observability';
import { claimItem, migratedDataSource, parsePrometheusText, sampleSum, testOutboxWriter } from '@claimchain/testing';
import { dataSourceOptions } from './persistence/data-source.options';
import { AdjudicationRepository } from './adjudication/adjudication.repository';
import { ContractRepository } from './contracts/contract.repository';
import { contractIdOf, DEMO_CONTRACT } from './engine/contract.definition';
import { PayoutDispatcherService } from './payments/payout-dispatcher.service';
import { PaymentInstruction, PaymentRail, SettlementListener } from './payments/payment-rail';
import { PaymentDispatchRepository } from './payments/payment-dispatch.repository';
import { singleRail } from './payments/payment-rails';
import { PayoutMetrics } from './payout.metrics';

/** A rail that refuses the first `failures` submissions and settles only when told to. */
class ScriptedRail implements PaymentRail {
  readonly name = 'scripted';
  private readonly listeners = new Map<string, SettlementListener>();
  constructor(private failures = 0) {}
  async submit(i: PaymentInstruction, onSettled: SettlementListener): Promise<{ reference: string }> {
    if (this.failures-- > 0) throw new Error('bank unavailable');
    this.listeners.set(i.payoutId, onSettled);
    return { reference: `ref-${i.payoutId}` };
  }
  async settle(payoutId: string): Promise<void> {
    await this.listeners.get(payoutId)!({ payoutId, reference: `ref-${payoutId}`, settledAt: new Date() });
  }
  async close(): Promise<void> {}
}

/**
 * What the payments alerts read, on the real Postgres: refusals counted per submission and rail, a payout failed
 * for good counted once, sent and settled payouts by rail, and the breaker's state from its row.
 */
describe(`${PayoutMetrics.name} on the real Postgres`, () => {
  let ds: DataSource;
  let registry: Registry;
  const adjudications = new AdjudicationRepository();
  const dispatcher = (rail: PaymentRail) =>
    new PayoutDispatcherService(
      ds,
      new PaymentDispatchRepository(),
      testOutboxWriter('payout'),
      singleRail(rail),
      { retryBaseMs: 1, retryMaxMs: 1, maxAttempts: 2, recheckMs: 60_000 },
      new PayoutMetrics(registry, ds),
    );
  const metric = async (name: string, labels: Record<string, string> = {}) =>
    sampleSum(parsePrometheusText(await registry.metrics()), name, labels);

  async function releasedPayout(): Promise<string> {
    const claimId = uuidv4();
    const payoutId = uuidv7();
    await ds.transaction(async (em) => {
      await adjudications.rememberFacts(em, {
        claims: [
          buildEvent(Topics.ClaimsSubmitted, {
            source: 'test/payout-metrics',
            subject: claimId,
            data: {
              claimId,
              insurerId: 'insurer-metrics',
              providerId: 'clinic-metrics',
              patientPseudonym: 'f'.repeat(64),
              coverage: 'cov-metrics',
              currency: 'EUR',
              total: '10.00',
              items: [claimItem(1, '99213', '10.00')],
              submittedAt: new Date().toISOString(),
            },
          }),
        ],
        verifications: [],
        anchors: [],
      });
      await adjudications.insertAdjudications(em, [
        {
          claimId,
          contractId: contractIdOf(DEMO_CONTRACT),
          policyId: null,
          decision: 'approved',
          payable: '10.00',
          result: {},
        },
      ]);
      await adjudications.insertPayouts(em, [
        { id: payoutId, claimId, payeeId: 'clinic-metrics', amount: '10.00', currency: 'EUR' },
      ]);
    });
    return payoutId;
  }

  beforeAll(async () => {
    ds = await migratedDataSource(`${process.env.DATABASE_PREFIX}_payout_metrics`, dataSourceOptions(''));
    runAfterCommits(ds);
    await ds.transaction((em) =>
      new ContractRepository().insertContract(em, { id: contractIdOf(DEMO_CONTRACT), definition: DEMO_CONTRACT }),
    );
  });
  afterAll(async () => {
    await ds?.destroy();
  });
  beforeEach(async () => {
    registry = new Registry();
    await ds.query(`UPDATE payouts SET status = 'settled' WHERE status <> 'settled'`);
  });

  it('counts every refused submission, and the payout once when it fails for good', async () => {
    await releasedPayout();
    const d = dispatcher(new ScriptedRail(5));
    expect(await d.dispatchOnce()).toBe(1);
    expect(await metric('claimchain_payment_failures_total', { rail: 'scripted' })).toBe(1);
    expect(await metric('claimchain_payouts_total', { status: 'failed' })).toBe(0);
    // Due again after the 1 ms backoff: the second refusal is the last allowed one.
    await ds.query(`UPDATE payouts SET next_attempt_at = now() WHERE status = 'released'`);
    expect(await d.dispatchOnce()).toBe(1);
    expect(await metric('claimchain_payment_failures_total', { rail: 'scripted' })).toBe(2);
    expect(await metric('claimchain_payouts_total', { status: 'failed', rail: 'scripted' })).toBe(1);
    expect(await metric('claimchain_payouts_total', { status: 'sent' })).toBe(0);
  });

  it('counts a payout sent, then settled, on its rail', async () => {
    const payoutId = await releasedPayout();
    const rail = new ScriptedRail();
    const d = dispatcher(rail);
    await d.dispatchOnce();
    expect(await metric('claimchain_payouts_total', { status: 'sent', rail: 'scripted' })).toBe(1);
    expect(await metric('claimchain_payouts_total', { status: 'settled' })).toBe(0);
    await rail.settle(payoutId);
    expect(await metric('claimchain_payouts_total', { status: 'settled', rail: 'scripted' })).toBe(1);
    expect(await metric('claimchain_payment_failures_total')).toBe(0);
  });

  it("reports the ledger circuit breaker's state from its row", async () => {
    new PayoutMetrics(registry, ds);
    expect(await metric('claimchain_ledger_circuit_open')).toBe(0);
    await ds.query(`UPDATE ledger_circuit SET open = true WHERE id = 1`);
    try {
      expect(await metric('claimchain_ledger_circuit_open')).toBe(1);
    } finally {
      await ds.query(`UPDATE ledger_circuit SET open = false WHERE id = 1`);
    }
  });
});
