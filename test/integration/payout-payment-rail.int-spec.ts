import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { v4 as uuidv4, v7 as uuidv7 } from 'uuid';
import { Topics } from '@claimchain/contracts';
import { OutboxWriter } from '@claimchain/messaging';
import { migratedDataSource, waitFor } from '@claimchain/testing';
import { dataSourceOptions } from '../../apps/payout/src/persistence/data-source.options';
import { PayoutRepository } from '../../apps/payout/src/persistence/payout.repository';
import { contractIdOf, DEMO_CONTRACT } from '../../apps/payout/src/contracts/contract.definition';
import { PayoutDispatcherService } from '../../apps/payout/src/payments/payout-dispatcher.service';
import { PaymentInstruction, PaymentRail, SettlementListener } from '../../apps/payout/src/payments/payment-rail';
import { SimulatedBankRail } from '../../apps/payout/src/payments/simulated-bank.rail';
import { SIGNATURE_HEADER, verifyWebhook, WebhookRail } from '../../apps/payout/src/payments/webhook.rail';

const CPT = 'http://www.ama-assn.org/go/cpt';

/** A rail that refuses the first `failures` submissions, records every call, and settles only when told to. */
class ScriptedRail implements PaymentRail {
  readonly name = 'scripted';
  readonly submitted: PaymentInstruction[] = [];
  private readonly listeners = new Map<string, SettlementListener>();
  constructor(private failures = 0) {}
  async submit(i: PaymentInstruction, onSettled: SettlementListener): Promise<{ reference: string }> {
    this.submitted.push(i);
    if (this.failures-- > 0) throw new Error('bank unavailable');
    this.listeners.set(i.payoutId, onSettled);
    return { reference: `ref-${i.payoutId}` };
  }
  async settle(payoutId: string): Promise<void> {
    await this.listeners.get(payoutId)!({ payoutId, reference: `ref-${payoutId}`, settledAt: new Date() });
  }
  async close(): Promise<void> {}
}

describe(`${PayoutDispatcherService.name} on the real Postgres`, () => {
  let ds: DataSource;
  const repo = new PayoutRepository();
  const outbox = new OutboxWriter();
  const dispatcher = (rail: PaymentRail, retryBaseMs = 20) =>
    new PayoutDispatcherService(ds, repo, outbox, rail, { retryBaseMs, recheckMs: 60_000 });

  /** A claim decided and released for payment, as adjudication leaves it. */
  async function releasedPayout(amount = '96.00'): Promise<{ payoutId: string; claimId: string }> {
    const claimId = uuidv4();
    const payoutId = uuidv7();
    await ds.transaction(async (em) => {
      await repo.rememberClaim(em, {
        claimId,
        insurerId: 'insurer-rail',
        providerId: 'clinic-rail',
        patientPseudonym: 'f'.repeat(64),
        coverage: 'cov-rail',
        currency: 'EUR',
        total: amount,
        items: [
          {
            sequence: 1,
            system: CPT,
            code: '99213',
            servicedDate: '2026-11-20',
            quantity: 1,
            unitPrice: amount,
            net: amount,
          },
        ],
        submittedAt: new Date().toISOString(),
      });
      await repo.insertAdjudication(em, {
        claimId,
        contractId: contractIdOf(DEMO_CONTRACT),
        policyId: null,
        decision: 'approved',
        payable: amount,
        result: {},
      });
      await repo.insertPayout(em, { id: payoutId, claimId, payeeId: 'clinic-rail', amount, currency: 'EUR' });
    });
    return { payoutId, claimId };
  }

  const payout = async (id: string) =>
    (
      await ds.query(`SELECT status, attempts, rail, rail_reference, last_error FROM payouts WHERE id = $1`, [id])
    )[0] as {
      status: string;
      attempts: number;
      rail: string | null;
      rail_reference: string | null;
      last_error: string | null;
    };

  const settledEvents = async (claimId: string): Promise<number> =>
    (
      await ds.query(`SELECT count(*)::int AS n FROM outbox WHERE topic = $1 AND message_key = $2`, [
        Topics.PayoutsSettled,
        claimId,
      ])
    )[0].n;

  beforeAll(async () => {
    ds = await migratedDataSource(
      `${process.env.DATABASE_PREFIX ?? 'claimchain_test'}_payout_rail`,
      dataSourceOptions(''),
    );
    await ds.transaction((em) =>
      repo.insertContract(em, { id: contractIdOf(DEMO_CONTRACT), definition: DEMO_CONTRACT }),
    );
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  beforeEach(async () => {
    // Each test sees only its own payouts as due.
    await ds.query(`UPDATE payouts SET status = 'settled' WHERE status <> 'settled'`);
  });

  it('sends a released payout to the simulated bank and records its settlement once, with its event', async () => {
    const rail = new SimulatedBankRail(10);
    const { payoutId, claimId } = await releasedPayout();
    const d = dispatcher(rail);
    expect(await d.dispatchOnce()).toBe(1);
    expect(await payout(payoutId)).toMatchObject({
      status: 'sent',
      attempts: 1,
      rail: 'simulated-bank',
      rail_reference: `sim-${payoutId}`,
    });
    await waitFor('the settlement', async () => (await payout(payoutId)).status === 'settled');
    await rail.close();
    expect(await settledEvents(claimId)).toBe(1);
    // The rail reporting the same settlement again changes nothing.
    await d.settled({ payoutId, reference: `sim-${payoutId}`, settledAt: new Date() });
    expect(await settledEvents(claimId)).toBe(1);
    expect(await d.dispatchOnce()).toBe(0);
  });

  it('retries a refused submission with backoff until the rail accepts it', async () => {
    const rail = new ScriptedRail(2);
    const { payoutId, claimId } = await releasedPayout();
    const d = dispatcher(rail, 20);
    expect(await d.dispatchOnce()).toBe(1);
    expect(await payout(payoutId)).toMatchObject({
      status: 'released',
      attempts: 1,
      last_error: 'Error: bank unavailable',
    });
    // Not due again until its backoff has passed.
    expect(await d.dispatchOnce()).toBe(0);
    await waitFor('the payout to be sent', async () => {
      await d.dispatchOnce();
      return (await payout(payoutId)).status === 'sent';
    });
    expect(await payout(payoutId)).toMatchObject({ attempts: 3, last_error: null, rail_reference: `ref-${payoutId}` });
    expect(rail.submitted.map((i) => i.payoutId)).toEqual([payoutId, payoutId, payoutId]);
    await rail.settle(payoutId);
    expect(await payout(payoutId)).toMatchObject({ status: 'settled' });
    expect(await settledEvents(claimId)).toBe(1);
  });

  it('lets concurrent dispatchers share the work without submitting a payout twice', async () => {
    const rail = new ScriptedRail();
    const ids = await Promise.all(Array.from({ length: 30 }, () => releasedPayout()));
    const replicas = [dispatcher(rail), dispatcher(rail), dispatcher(rail)];
    await Promise.all(replicas.map((d) => d.dispatchOnce()));
    await Promise.all(replicas.map((d) => d.dispatchOnce()));
    expect(rail.submitted.map((i) => i.payoutId).sort()).toEqual(ids.map((i) => i.payoutId).sort());
  });

  it('retries a failing insurer webhook with backoff, then settles on its first 2xx', async () => {
    const answers = [500, 502];
    const deliveries: { valid: boolean; key: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const signature = String(req.headers[SIGNATURE_HEADER]);
        deliveries.push({
          valid: verifyWebhook('s3cret', body, signature, new Date()),
          key: String(req.headers['idempotency-key']),
        });
        res.statusCode = answers.shift() ?? 200;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/payouts`;
      const rail = new WebhookRail({ url, secret: 's3cret' });
      const { payoutId, claimId } = await releasedPayout('12.34');
      const d = dispatcher(rail, 20);
      await waitFor('the payout to settle', async () => {
        await d.dispatchOnce();
        return (await payout(payoutId)).status === 'settled';
      });
      await rail.close();
      expect(deliveries).toEqual([
        { valid: true, key: payoutId },
        { valid: true, key: payoutId },
        { valid: true, key: payoutId },
      ]);
      expect(await payout(payoutId)).toMatchObject({ attempts: 3, rail: 'insurer-webhook' });
      expect(await settledEvents(claimId)).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
