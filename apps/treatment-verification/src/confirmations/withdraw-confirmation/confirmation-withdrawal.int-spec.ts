import { Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import { v4 as uuidv4, v7 as uuidv7 } from 'uuid';
import {
  ClaimSubmittedV1,
  CloudEvent,
  PayoutWithdrawalDecidedV1,
  TopicName,
  Topics,
  TreatmentWithdrawalRequestedV1,
} from '@claimchain/wire';
import { buildEvent, createKafka, RetentionPruner } from '@claimchain/messaging';
import { claimSubmittedDraft, CPT, ownerSigned, waitFor } from '@claimchain/testing';
import { endedConfirmationsRetention } from '../confirmations.repository';
import { WithdrawConfirmationService } from './withdraw-confirmation.service';
import { RunningSystem, startSystem } from '../../../../../test/e2e/system';

interface Confirmation {
  confirmationId: string;
  claimId: string;
  outcome: string;
  reasons: { code: string; message: string }[];
}

const HOUR_MS = 3_600_000;
const line = {
  sequence: 1,
  system: CPT,
  code: '99213',
  servicedDate: '2026-11-20',
  quantity: 1,
  unitPrice: '10.00',
  net: '10.00',
};
const performed = [{ system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-20' }];

/**
 * Withdrawing a confirmation (issue 15 item 4, ADR 22) on treatment-verification with the real broker: a verified
 * one is a request (202 `withdrawal-requested`, `treatments.withdrawal-requested.v1`) until payout answers, and
 * payout's answers, produced here as payout signs them, make it `withdrawn` or `withdrawal-refused`; a cancellation
 * payout refused leaves the confirmation verified; withdrawn confirmations that published nothing are pruned.
 */
describe(`${WithdrawConfirmationService.name}: withdrawal before payout`, () => {
  let system: RunningSystem;
  let ds: DataSource;
  let producer: Producer;

  beforeAll(async () => {
    system = await startSystem({ services: ['treatment-verification'] });
    ds = system.app('treatment-verification').get(DataSource);
    producer = createKafka('confirmation-withdrawal-int-spec', process.env.KAFKA_BROKERS!.split(',')).producer();
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await system?.stop();
  });

  const provider = () => `clinic-${uuidv4().slice(0, 8)}`;
  const send = async (topic: TopicName, event: CloudEvent) =>
    producer.send({ topic, messages: [{ key: event.subject, value: ownerSigned(topic, event) }] });
  const claimArrives = async (providerId: string) => {
    const claimId = uuidv7();
    const draft = claimSubmittedDraft(claimId, {
      providerId,
      insurerId: 'insurer-test',
      source: 'claimchain/claim-intake',
    });
    await send(
      Topics.ClaimsSubmitted,
      buildEvent(Topics.ClaimsSubmitted, {
        ...draft,
        data: { ...draft.data, items: [line], total: '10.00' } as ClaimSubmittedV1,
      }),
    );
    await waitFor(
      `claim ${claimId} here`,
      async () => (await ds.query(`SELECT 1 FROM claims WHERE claim_id = $1`, [claimId])).length > 0,
    );
    return claimId;
  };
  const call = async (as: string, method: string, path: string, body?: unknown, key: string | null = uuidv4()) =>
    fetch(system.url('treatment-verification', path), {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(method === 'POST' && key ? { 'idempotency-key': key } : {}),
        ...(await system.as('provider', as)),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const confirm = async (as: string, claimId: string) => {
    const res = await call(as, 'POST', '/v1/confirmations', { claimId, performed });
    return { status: res.status, body: (await res.json()) as Confirmation };
  };
  const withdraw = (as: string, id: string, body?: unknown, key?: string) =>
    call(as, 'POST', `/v1/confirmations/${id}/withdraw`, body, key);
  const read = async (as: string, id: string) =>
    (await (await call(as, 'GET', `/v1/confirmations/${id}`)).json()) as Confirmation;
  const outcomeBecomes = async (as: string, id: string, outcome: string) => {
    let found: Confirmation | undefined;
    await waitFor(`confirmation ${id} ${outcome}`, async () => (found = await read(as, id)).outcome === outcome);
    return found!;
  };
  const withdrawalRequest = async (claimId: string) => {
    const rows: { id: string; payload: CloudEvent<TreatmentWithdrawalRequestedV1> }[] = await ds.query(
      `SELECT event_id::text AS id, payload FROM outbox WHERE message_key = $1 AND topic = $2`,
      [claimId, Topics.TreatmentsWithdrawalRequested],
    );
    return rows;
  };
  const payoutAnswers = (
    request: CloudEvent<TreatmentWithdrawalRequestedV1>,
    answer: Partial<PayoutWithdrawalDecidedV1>,
  ) =>
    send(
      Topics.PayoutsWithdrawalDecided,
      buildEvent(Topics.PayoutsWithdrawalDecided, {
        source: 'claimchain/payout',
        subject: request.data.claimId,
        tenantid: request.data.insurerId,
        data: {
          outcome: 'stopped',
          claimId: request.data.claimId,
          insurerId: request.data.insurerId,
          providerId: request.data.providerId,
          confirmationId: request.data.confirmationId,
          withdrawalEventId: request.id,
          decidedAt: new Date().toISOString(),
          ...answer,
        } as PayoutWithdrawalDecidedV1,
      }),
    );
  const paid = { decision: 'approved', payable: '10.00', currency: 'USD' } as const;
  const payoutOf = { payoutId: uuidv7(), amount: '10.00', status: 'released' } as const;

  it('makes a verified confirmation withdrawal-requested, announces it once, and shows payout stopping it', async () => {
    const own = provider();
    const claimId = await claimArrives(own);
    const verified = await confirm(own, claimId);
    expect(verified.body.outcome).toBe('verified');

    const key = uuidv4();
    const res = await withdraw(own, verified.body.confirmationId, { reason: 'wrong patient' }, key);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({
      confirmationId: verified.body.confirmationId,
      outcome: 'withdrawal-requested',
    });
    // A retry with the key answers the original; a new request while payout has not answered announces nothing.
    const retried = await withdraw(own, verified.body.confirmationId, { reason: 'wrong patient' }, key);
    expect(retried.status).toBe(202);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect((await withdraw(own, verified.body.confirmationId)).status).toBe(202);
    const requests = await withdrawalRequest(claimId);
    expect(requests).toHaveLength(1);
    expect(requests[0].payload.data).toMatchObject({
      claimId,
      insurerId: 'insurer-test',
      providerId: own,
      confirmationId: verified.body.confirmationId,
      reason: 'wrong patient',
    });
    // The claim is still decided by it until payout answers: no second confirmation meanwhile.
    const early = await confirm(own, claimId);
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ code: 'CONFIRMATION.ALREADY_RECORDED' });

    await payoutAnswers(requests[0].payload, {});
    const withdrawn = await outcomeBecomes(own, verified.body.confirmationId, 'withdrawn');
    expect(withdrawn.reasons.at(-1)).toMatchObject({ code: 'WITHDRAWN' });
    // Back on the provider's worklist, and a corrected confirmation decides the claim.
    const worklist = (await (await call(own, 'GET', '/v1/worklist')).json()) as { items: { claimId: string }[] };
    expect(worklist.items.map((c) => c.claimId)).toContain(claimId);
    const corrected = await confirm(own, claimId);
    expect(corrected.status).toBe(201);
    expect(corrected.body.outcome).toBe('verified');
    // Withdrawing the withdrawn one again answers it as it stands.
    expect((await withdraw(own, verified.body.confirmationId)).status).toBe(200);
  });

  it('shows payout refusing a withdrawal, which cannot be asked again; only the confirmation’s provider may ask', async () => {
    const own = provider();
    const claimId = await claimArrives(own);
    const verified = await confirm(own, claimId);
    const stranger = await withdraw(provider(), verified.body.confirmationId);
    expect(stranger.status).toBe(404);
    expect(await stranger.json()).toMatchObject({ code: 'CONFIRMATION.NOT_FOUND' });
    expect(await withdrawalRequest(claimId)).toEqual([]);

    expect((await withdraw(own, verified.body.confirmationId)).status).toBe(202);
    const [request] = await withdrawalRequest(claimId);
    await payoutAnswers(request.payload, { outcome: 'refused', ...paid, payout: payoutOf });
    const refused = await outcomeBecomes(own, verified.body.confirmationId, 'withdrawal-refused');
    expect(refused.reasons.at(-1)).toMatchObject({ code: 'WITHDRAWAL_REFUSED' });
    expect(refused.reasons.at(-1)!.message).toContain('10.00 USD');

    const again = await withdraw(own, verified.body.confirmationId);
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({
      code: 'CONFIRMATION.NOT_WITHDRAWABLE',
      errors: [{ pointer: '/id', detail: expect.stringContaining('payout had already decided') }],
    });
    expect((await confirm(own, claimId)).status).toBe(409);
  });

  it('requires an Idempotency-Key and refuses an unknown field, naming them', async () => {
    const own = provider();
    const claimId = await claimArrives(own);
    const verified = await confirm(own, claimId);
    const keyless = await withdraw(own, verified.body.confirmationId, undefined, null as unknown as string);
    expect(keyless.status).toBe(400);
    expect(await keyless.json()).toMatchObject({ code: 'IDEMPOTENCY.KEY_REQUIRED' });
    const unknown = await withdraw(own, verified.body.confirmationId, { reasons: 'x' });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ code: 'CONFIRMATION.WITHDRAWAL_INVALID' });
  });

  describe('a cancellation payout refused', () => {
    const cancellation = (claimId: string) =>
      buildEvent(Topics.ClaimsCancelled, {
        source: 'claimchain/claim-intake',
        subject: claimId,
        tenantid: 'insurer-test',
        data: { claimId, insurerId: 'insurer-test', reason: 'entered in error', cancelledAt: new Date().toISOString() },
      });
    const refusal = (cancelled: CloudEvent) =>
      buildEvent(Topics.PayoutsCancellationDecided, {
        source: 'claimchain/payout',
        subject: cancelled.subject,
        tenantid: 'insurer-test',
        data: {
          outcome: 'refused',
          claimId: cancelled.subject,
          insurerId: 'insurer-test',
          cancellationEventId: cancelled.id,
          decidedAt: new Date().toISOString(),
          ...paid,
          payout: payoutOf,
        },
      });

    it('leaves the paid claim’s confirmation verified, saying so', async () => {
      const own = provider();
      const claimId = await claimArrives(own);
      const verified = await confirm(own, claimId);
      const cancelled = cancellation(claimId);
      await send(Topics.ClaimsCancelled, cancelled);
      await outcomeBecomes(own, verified.body.confirmationId, 'cancelled');
      await send(Topics.PayoutsCancellationDecided, refusal(cancelled));
      const shown = await outcomeBecomes(own, verified.body.confirmationId, 'verified');
      expect(shown.reasons.map((r) => r.code)).toEqual(['CLAIM_CANCELLED', 'CANCELLATION_REFUSED']);
    });

    it('leaves it verified when payout’s answer is consumed before the cancellation itself', async () => {
      const own = provider();
      const claimId = await claimArrives(own);
      const verified = await confirm(own, claimId);
      const cancelled = cancellation(claimId);
      await send(Topics.PayoutsCancellationDecided, refusal(cancelled));
      await waitFor(
        'the refusal remembered',
        async () =>
          (await ds.query(`SELECT 1 FROM cancelled_claims WHERE claim_id = $1 AND refused_at IS NOT NULL`, [claimId]))
            .length === 1,
      );
      await send(Topics.ClaimsCancelled, cancelled);
      await waitFor(
        'the cancellation consumed',
        async () => (await ds.query(`SELECT 1 FROM inbox WHERE event_id = $1`, [cancelled.id])).length === 1,
      );
      expect((await read(own, verified.body.confirmationId)).outcome).toBe('verified');
    });
  });

  it('prunes a confirmation withdrawn while pending, and keeps one whose verification was withdrawn', async () => {
    const own = provider();
    const pending = await confirm(own, uuidv7());
    expect(pending.status).toBe(202);
    expect((await withdraw(own, pending.body.confirmationId)).status).toBe(200);
    const claimId = await claimArrives(own);
    const verified = await confirm(own, claimId);
    expect((await withdraw(own, verified.body.confirmationId)).status).toBe(202);
    const [request] = await withdrawalRequest(claimId);
    await payoutAnswers(request.payload, {});
    await outcomeBecomes(own, verified.body.confirmationId, 'withdrawn');

    const ids = [pending.body.confirmationId, verified.body.confirmationId];
    await ds.query(`UPDATE confirmations SET decided_at = now() - interval '2 hours' WHERE id = ANY($1::uuid[])`, [
      ids,
    ]);
    const pruner = new RetentionPruner(ds, [endedConfirmationsRetention(HOUR_MS)], {
      intervalMs: 60_000,
      batchSize: 100,
    });
    await pruner.pruneOnce();
    const left: { id: string }[] = await ds.query(`SELECT id::text FROM confirmations WHERE id = ANY($1::uuid[])`, [
      ids,
    ]);
    expect(left.map((r) => r.id)).toEqual([verified.body.confirmationId]);
  });
});
