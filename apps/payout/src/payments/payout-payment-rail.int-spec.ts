import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { v4 as uuidv4, v7 as uuidv7 } from 'uuid';
import { Topics } from '@claimchain/wire';
import { buildEvent } from '@claimchain/messaging';
import { claimItem, migratedDataSource, testOutboxWriter, waitFor } from '@claimchain/testing';
import { dataSourceOptions } from '../persistence/data-source.options';
import { AdjudicationRepository } from '../adjudication/adjudication.repository';
import { ContractRepository } from '../contracts/contract.repository';
import { contractIdOf, DEMO_CONTRACT } from '../engine/contract.definition';
import { PayoutDispatcherService } from './payout-dispatcher.service';
import { PaymentInstruction, PaymentRail, SettlementListener } from './payment-rail';
import { PaymentDispatchRepository } from './payment-dispatch.repository';
import { InsurerPaymentRails, singleRail } from './payment-rails';
import { SimulatedBankRail } from './simulated-bank.rail';
import { SIGNATURE_HEADER, verifyWebhook } from './webhook.rail';
import { PayoutEndpointRepository } from './payout-endpoint/payout-endpoint.repository';
import { PayoutEndpointService } from './payout-endpoint/payout-endpoint.service';
import { WebhookSecretCipher } from './payout-endpoint/webhook-secret.cipher';
import { RetryPayoutService } from './retry-payout/retry-payout.service';

/** A rail that refuses the first `failures` submissions, records every call, and settles only when told to. */
class ScriptedRail implements PaymentRail {
  readonly name = 'scripted';
  readonly submitted: PaymentInstruction[] = [];
  private readonly listeners = new Map<string, SettlementListener>();
  constructor(public failures = 0) {}
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
  const adjudicationRepo = new AdjudicationRepository();
  const contractRepo = new ContractRepository();
  const dispatch = new PaymentDispatchRepository();
  const outbox = testOutboxWriter('payout');
  const dispatcher = (rail: PaymentRail, retryBaseMs = 20) =>
    new PayoutDispatcherService(ds, dispatch, outbox, singleRail(rail), { retryBaseMs, recheckMs: 60_000 });

  /** A claim decided and released for payment, as adjudication leaves it. */
  async function releasedPayout(
    amount = '96.00',
    insurerId = 'insurer-rail',
  ): Promise<{ payoutId: string; claimId: string }> {
    const claimId = uuidv4();
    const payoutId = uuidv7();
    await ds.transaction(async (em) => {
      await adjudicationRepo.rememberFacts(em, {
        claims: [
          buildEvent(Topics.ClaimsSubmitted, {
            source: 'test/payout-rail',
            subject: claimId,
            data: {
              claimId,
              insurerId,
              providerId: 'clinic-rail',
              patientPseudonym: 'f'.repeat(64),
              coverage: 'cov-rail',
              currency: 'EUR',
              total: amount,
              items: [claimItem(1, '99213', amount)],
              submittedAt: new Date().toISOString(),
            },
          }),
        ],
        verifications: [],
        anchors: [],
      });
      await adjudicationRepo.insertAdjudications(em, [
        {
          claimId,
          contractId: contractIdOf(DEMO_CONTRACT),
          policyId: null,
          decision: 'approved',
          payable: amount,
          result: {},
        },
      ]);
      await adjudicationRepo.insertPayouts(em, [
        { id: payoutId, claimId, payeeId: 'clinic-rail', amount, currency: 'EUR' },
      ]);
    });
    return { payoutId, claimId };
  }

  const payout = async (id: string) =>
    (
      await ds.query(
        `SELECT status, attempts, rail, rail_reference, last_error, next_attempt_at > now() AS waiting
           FROM payouts WHERE id = $1`,
        [id],
      )
    )[0] as {
      status: string;
      attempts: number;
      rail: string | null;
      rail_reference: string | null;
      last_error: string | null;
      waiting: boolean;
    };

  const eventsOf = async (topic: string, claimId: string): Promise<{ data: Record<string, unknown> }[]> =>
    (
      await ds.query(`SELECT payload FROM outbox WHERE topic = $1 AND message_key = $2 ORDER BY seq`, [topic, claimId])
    ).map((r: { payload: { data: Record<string, unknown> } }) => r.payload);
  const settledEvents = async (claimId: string): Promise<number> =>
    (await eventsOf(Topics.PayoutsSettled, claimId)).length;

  beforeAll(async () => {
    ds = await migratedDataSource(
      `${process.env.DATABASE_PREFIX ?? 'claimchain_test'}_payout_rail`,
      dataSourceOptions(''),
    );
    await ds.transaction((em) =>
      contractRepo.insertContract(em, { id: contractIdOf(DEMO_CONTRACT), definition: DEMO_CONTRACT }),
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
    // A backoff long enough that the next dispatch surely comes before it ends, even on a busy machine.
    const d = dispatcher(rail, 1000);
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

  it('sleeps while nothing is due, is woken by a release, and sleeps only until a retry is due', async () => {
    // Other tests' payouts are parked a day ahead: nothing else can wake this dispatcher.
    await ds.query(
      `UPDATE payouts SET next_attempt_at = now() + interval '1 day' WHERE status IN ('awaiting-rail', 'released', 'sent')`,
    );
    const rail = new ScriptedRail();
    // It looks at most hourly unless a NOTIFY or the next due payout wakes it.
    const d = new PayoutDispatcherService(ds, dispatch, outbox, singleRail(rail), {
      retryBaseMs: 200,
      recheckMs: 60_000,
      maxIdleMs: 3_600_000,
      idlePollMs: 3_600_000,
    });
    d.onApplicationBootstrap();
    try {
      const first = await releasedPayout('5.00');
      // Sent: due again only at its recheck, a minute on, so the dispatcher now sleeps well past this test's waits.
      await waitFor('the first payout to be sent', async () => (await payout(first.payoutId)).status === 'sent');
      const second = await releasedPayout('6.00');
      await waitFor('the release to wake the dispatcher', async () =>
        rail.submitted.some((i) => i.payoutId === second.payoutId),
      );
      expect((await payout(second.payoutId)).status).toBe('sent');
      // A refused submission is retried when its backoff ends (200 ms), not at the next hourly look.
      rail.failures = 1;
      const third = await releasedPayout('7.00');
      await waitFor(
        'the refused payout to be retried and sent',
        async () => (await payout(third.payoutId)).status === 'sent',
      );
      expect(rail.submitted.filter((i) => i.payoutId === third.payoutId)).toHaveLength(2);
    } finally {
      await d.onModuleDestroy();
    }
  });

  describe("through the insurer's registered webhook", () => {
    const cipher = new WebhookSecretCipher('integration-test-master-key-32-chars!');
    const endpoints = new PayoutEndpointRepository();
    let receiver: WebhookReceiver;

    /** The insurer's endpoint as PUT /v1/payout-endpoint leaves it: the URL and the sealed secret. */
    async function register(insurerId: string, secret: string): Promise<void> {
      await endpoints.insert(ds.manager, {
        insurerId,
        url: receiver.url,
        secretCiphertext: cipher.seal(insurerId, secret),
      });
    }

    const insurerDispatcher = (
      maxAttempts = 8,
      bank: PaymentRail | null = new SimulatedBankRail(10),
      repo: PaymentDispatchRepository = dispatch,
    ) =>
      new PayoutDispatcherService(
        ds,
        repo,
        outbox,
        new InsurerPaymentRails(bank ?? undefined, cipher, { timeoutMs: 2000, allowLoopback: true }),
        { retryBaseMs: 20, retryMaxMs: 200, recheckMs: 60_000, idlePollMs: 10, maxAttempts },
      );

    beforeEach(async () => {
      receiver = await WebhookReceiver.start();
    });

    afterEach(async () => {
      await receiver.stop();
    });

    it('retries a failing webhook with backoff, then settles once on its first 2xx', async () => {
      const insurerId = `insurer-${uuidv4()}`;
      receiver.secret = 'whsec_retry';
      receiver.answers = [500, 500];
      await register(insurerId, receiver.secret);
      const { payoutId, claimId } = await releasedPayout('12.34', insurerId);
      const d = insurerDispatcher();
      await waitFor('the payout to settle', async () => {
        await d.dispatchOnce();
        return (await payout(payoutId)).status === 'settled';
      });
      expect(receiver.deliveries).toEqual([
        { status: 500, signatureValid: true, idempotencyKey: payoutId },
        { status: 500, signatureValid: true, idempotencyKey: payoutId },
        { status: 200, signatureValid: true, idempotencyKey: payoutId },
      ]);
      expect(JSON.parse(receiver.bodies[2])).toMatchObject({ type: 'payout.instruction', payoutId, claimId });
      expect(await payout(payoutId)).toMatchObject({
        attempts: 3,
        rail: 'insurer-webhook',
        rail_reference: `webhook-${payoutId}`,
      });
      // Settled with the 2xx, in the same transaction: one settlement event, one payout for the claim.
      expect((await eventsOf(Topics.PayoutsSettled, claimId)).map((e) => e.data)).toEqual([
        expect.objectContaining({ payoutId, rail: 'insurer-webhook', amount: '12.34' }),
      ]);
      expect((await ds.query(`SELECT count(*)::int AS n FROM payouts WHERE claim_id = $1`, [claimId]))[0].n).toBe(1);
      expect(await d.dispatchOnce()).toBe(0);
      expect(receiver.deliveries).toHaveLength(3);
    });

    it('resumes the retries after a restart from what Postgres recorded, with the same idempotency key', async () => {
      const insurerId = `insurer-${uuidv4()}`;
      receiver.secret = 'whsec_restart';
      receiver.answers = [500, 500, 500, 500, 500, 500];
      await register(insurerId, receiver.secret);
      const { payoutId, claimId } = await releasedPayout('50.00', insurerId);

      const before = insurerDispatcher();
      before.onApplicationBootstrap();
      await waitFor('two refused attempts', async () => (await payout(payoutId)).attempts >= 2);
      await before.onModuleDestroy();
      const stopped = await payout(payoutId);
      expect(stopped).toMatchObject({
        status: 'released',
        rail: 'insurer-webhook',
        last_error: 'Error: webhook answered 500',
      });
      const deliveredBeforeRestart = receiver.deliveries.length;
      expect(deliveredBeforeRestart).toBe(stopped.attempts);

      // A new process: nothing in memory, the insurer's endpoint now accepts.
      receiver.answers = [];
      const after = insurerDispatcher();
      after.onApplicationBootstrap();
      try {
        await waitFor(
          'the payout to settle after the restart',
          async () => (await payout(payoutId)).status === 'settled',
        );
      } finally {
        await after.onModuleDestroy();
      }
      expect(await payout(payoutId)).toMatchObject({ attempts: stopped.attempts + 1 });
      expect(receiver.deliveries).toHaveLength(deliveredBeforeRestart + 1);
      expect(new Set(receiver.deliveries.map((d) => d.idempotencyKey))).toEqual(new Set([payoutId]));
      expect(receiver.deliveries.every((d) => d.signatureValid)).toBe(true);
      expect(await settledEvents(claimId)).toBe(1);
    });

    it('marks the payout failed after the last allowed attempt and announces it on payouts.failed.v1', async () => {
      const insurerId = `insurer-${uuidv4()}`;
      receiver.secret = 'whsec_fail';
      receiver.answers = Array.from({ length: 10 }, () => 500);
      await register(insurerId, receiver.secret);
      const { payoutId, claimId } = await releasedPayout('20.00', insurerId);
      const d = insurerDispatcher(3);
      await waitFor('the payout to fail', async () => {
        await d.dispatchOnce();
        return (await payout(payoutId)).status === 'failed';
      });
      expect(await payout(payoutId)).toMatchObject({ attempts: 3, last_error: 'Error: webhook answered 500' });
      expect(receiver.deliveries).toHaveLength(3);
      expect((await eventsOf(Topics.PayoutsFailed, claimId)).map((e) => e.data)).toEqual([
        {
          claimId,
          payoutId,
          rail: 'insurer-webhook',
          amount: '20.00',
          currency: 'EUR',
          attempts: 3,
          lastError: 'Error: webhook answered 500',
          failedAt: expect.any(String),
        },
      ]);
      // Failed is final: never submitted again, never settled.
      await ds.query(`UPDATE payouts SET next_attempt_at = now() WHERE id = $1`, [payoutId]);
      expect(await d.dispatchOnce()).toBe(0);
      expect(await settledEvents(claimId)).toBe(0);
    });

    it('lets ops retry a failed payout: same rail, attempts from zero, audited and announced, then settled', async () => {
      const insurerId = `insurer-${uuidv4()}`;
      receiver.secret = 'whsec_ops_retry';
      receiver.answers = [500, 500];
      await register(insurerId, receiver.secret);
      const { payoutId, claimId } = await releasedPayout('42.10', insurerId);
      const d = insurerDispatcher(2);
      await waitFor('the payout to fail', async () => {
        await d.dispatchOnce();
        return (await payout(payoutId)).status === 'failed';
      });
      const failedList = await dispatch.list(ds.manager, { status: 'failed', limit: 200 });
      expect(failedList.map((p) => p.payoutId)).toContain(payoutId);

      const retries = new RetryPayoutService(ds, dispatch, outbox);
      const shown = await retries.retry(payoutId, 'ops-alice', 'INC-7: insurer endpoint fixed');
      expect(shown).toMatchObject({ payoutId, status: 'released', attempts: 0, rail: 'insurer-webhook', retries: 1 });
      const [audit] = await ds.query(
        `SELECT retried_by, reason, previous_attempts, previous_error, failed_at IS NOT NULL AS had_failed
           FROM payout_retries WHERE payout_id = $1`,
        [payoutId],
      );
      expect(audit).toEqual({
        retried_by: 'ops-alice',
        reason: 'INC-7: insurer endpoint fixed',
        previous_attempts: 2,
        previous_error: 'Error: webhook answered 500',
        had_failed: true,
      });
      expect((await eventsOf(Topics.PayoutsRetried, claimId)).map((e) => e.data)).toEqual([
        {
          claimId,
          payoutId,
          rail: 'insurer-webhook',
          amount: '42.10',
          currency: 'EUR',
          previousAttempts: 2,
          previousError: 'Error: webhook answered 500',
          retriedBy: 'ops-alice',
          reason: 'INC-7: insurer endpoint fixed',
          retriedAt: expect.any(String),
        },
      ]);
      // Only a failed payout can be retried: a second retry while it is under way is a conflict.
      await expect(retries.retry(payoutId, 'ops-alice', 'again')).rejects.toMatchObject({ code: 'PAYOUT.NOT_FAILED' });
      await expect(retries.retry(uuidv7(), 'ops-alice', 'unknown')).rejects.toMatchObject({
        code: 'PAYOUT.NOT_FOUND',
      });

      await waitFor('the retried payout to settle', async () => {
        await d.dispatchOnce();
        return (await payout(payoutId)).status === 'settled';
      });
      expect(await payout(payoutId)).toMatchObject({ attempts: 1, rail: 'insurer-webhook' });
      expect(receiver.deliveries.map((x) => x.status)).toEqual([500, 500, 200]);
      expect(new Set(receiver.deliveries.map((x) => x.idempotencyKey))).toEqual(new Set([payoutId]));
      expect(await settledEvents(claimId)).toBe(1);
      await expect(retries.retry(payoutId, 'ops-alice', 'settled already')).rejects.toMatchObject({
        code: 'PAYOUT.NOT_FAILED',
      });
    });

    it('pays insurers without a webhook through the bank, and keeps a payout on the rail it started on', async () => {
      const insurerId = `insurer-${uuidv4()}`;
      const { payoutId } = await releasedPayout('30.00', insurerId);
      const d = insurerDispatcher();
      expect(await d.dispatchOnce()).toBe(1);
      expect(await payout(payoutId)).toMatchObject({ status: 'sent', rail: 'simulated-bank' });
      // Registered while the bank transfer is under way: its recheck still goes to the bank, never the webhook.
      receiver.secret = 'whsec_late';
      await register(insurerId, receiver.secret);
      await ds.query(`UPDATE payouts SET next_attempt_at = now() WHERE id = $1`, [payoutId]);
      await d.dispatchOnce();
      expect(await payout(payoutId)).toMatchObject({ rail: 'simulated-bank' });
      expect(receiver.deliveries).toHaveLength(0);
      await d.onModuleDestroy();
    });

    it('keeps a webhook payout on the webhook after a crash lost the outcome, even once the endpoint is deleted', async () => {
      const insurerId = `insurer-${uuidv4()}`;
      receiver.secret = 'whsec_crash';
      await register(insurerId, receiver.secret);
      const { payoutId } = await releasedPayout('77.00', insurerId);
      // The process dies after the webhook answered 2xx and before the outcome committed.
      const crashing = new (class extends PaymentDispatchRepository {
        override async markSent(): Promise<void> {
          throw new Error('killed before the commit');
        }
      })();
      await expect(insurerDispatcher(8, new ScriptedRail(), crashing).dispatchOnce()).rejects.toThrow(/killed/);
      expect(receiver.deliveries).toHaveLength(1);
      // What was committed before the webhook was called survives: the rail and the attempt.
      expect(await payout(payoutId)).toMatchObject({ status: 'released', rail: 'insurer-webhook', attempts: 1 });

      // The insurer deletes its endpoint; once the attempt's lease is over a new process retries the payout.
      await ds.query(`DELETE FROM payout_endpoints WHERE insurer_id = $1`, [insurerId]);
      await ds.query(`UPDATE payouts SET next_attempt_at = now() WHERE id = $1`, [payoutId]);
      const bank = new ScriptedRail();
      expect(await insurerDispatcher(8, bank).dispatchOnce()).toBe(1);
      expect(bank.submitted).toEqual([]);
      expect(await payout(payoutId)).toMatchObject({
        status: 'released',
        rail: 'insurer-webhook',
        attempts: 2,
        last_error: 'Error: the insurer has no payout endpoint registered',
      });
    });

    it('leaves a payout with no webhook and no bank waiting for a rail, visible to ops, never settled', async () => {
      const insurerId = `insurer-${uuidv4()}`;
      const { payoutId, claimId } = await releasedPayout('15.00', insurerId);
      const d = insurerDispatcher(2, null);
      for (let i = 0; i < 3; i += 1) {
        await ds.query(`UPDATE payouts SET next_attempt_at = now() WHERE id = $1`, [payoutId]);
        expect(await d.dispatchOnce()).toBe(1);
      }
      // Not an attempt, so never failed however long it waits; and looked at again only after the recheck interval.
      expect(await payout(payoutId)).toMatchObject({
        status: 'awaiting-rail',
        rail: null,
        attempts: 0,
        waiting: true,
        last_error: `no payment rail: insurer ${insurerId} has no payout endpoint and there is no bank rail`,
      });
      expect(await settledEvents(claimId)).toBe(0);
      const listed = await dispatch.list(ds.manager, { status: 'awaiting-rail', limit: 200 });
      expect(listed.map((p) => p.payoutId)).toContain(payoutId);

      // The insurer registers a webhook: the payout is due at once and paid there.
      receiver.secret = 'whsec_awaited';
      await new PayoutEndpointService(ds, endpoints, cipher, dispatch).put(insurerId, receiver.url);
      await ds.query(`UPDATE payout_endpoints SET secret_ciphertext = $2 WHERE insurer_id = $1`, [
        insurerId,
        cipher.seal(insurerId, receiver.secret),
      ]);
      expect(await d.dispatchOnce()).toBe(1);
      expect(await payout(payoutId)).toMatchObject({ status: 'settled', rail: 'insurer-webhook', attempts: 1 });
      expect(receiver.deliveries).toEqual([{ status: 200, signatureValid: true, idempotencyKey: payoutId }]);
    });
  });
});

/** The insurer's side: a loopback HTTP server that checks each delivery's HMAC and answers as scripted (then 200). */
class WebhookReceiver {
  secret = '';
  answers: number[] = [];
  url = '';
  readonly deliveries: { status: number; signatureValid: boolean; idempotencyKey: string }[] = [];
  readonly bodies: string[] = [];
  private readonly server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const status = this.answers.shift() ?? 200;
      this.bodies.push(body);
      this.deliveries.push({
        status,
        signatureValid: verifyWebhook(this.secret, body, String(req.headers[SIGNATURE_HEADER]), new Date()),
        idempotencyKey: String(req.headers['idempotency-key']),
      });
      res.statusCode = status;
      res.end();
    });
  });

  static async start(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/payouts`;
    return receiver;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }
}
