import { Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import { v4 as uuidv4, v7 as uuidv7 } from 'uuid';
import { ClaimSubmittedV1, Topics, TreatmentRejectedV1, TreatmentVerifiedV1 } from '@claimchain/wire';
import { buildEvent, createKafka } from '@claimchain/messaging';
import { claimSubmittedDraft, CPT, ownerSigned, waitFor } from '@claimchain/testing';
import { ConfirmTreatmentService } from './confirm-treatment.service';
import { RunningSystem, startSystem } from '../../../../../test/e2e/system';

interface Confirmation {
  confirmationId: string;
  claimId: string;
  outcome: string;
  reasons: { sequence?: number; code: string; message: string; performed?: unknown }[];
  supersedes?: string | null;
}

const line = (sequence: number, code: string, quantity = 1, servicedDate = '2026-11-20') => ({
  sequence,
  system: CPT,
  code,
  servicedDate,
  quantity,
  unitPrice: '10.00',
  net: (10 * quantity).toFixed(2),
});
const done = (code: string, quantity = 1, performedAt = '2026-11-20') => ({
  system: CPT,
  code,
  quantity,
  performedAt,
});

/**
 * Line-level matching, corrections and withdrawal (issue 15 items 3 and 4, ADR 19) on the running service with the
 * real broker: each claimed line is verified or not on its own within the insurer's date tolerance and the event
 * says which; a rejected confirmation can be corrected, with its history kept; a pending one can be withdrawn (a
 * verified one too, as a request payout answers: confirmation-withdrawal.int-spec).
 */
describe(`${ConfirmTreatmentService.name}: line-level matching and corrections`, () => {
  let system: RunningSystem;
  let ds: DataSource;
  let producer: Producer;

  beforeAll(async () => {
    system = await startSystem({ services: ['treatment-verification'] });
    ds = system.app('treatment-verification').get(DataSource);
    producer = createKafka('line-matching-int-spec', process.env.KAFKA_BROKERS!.split(',')).producer();
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await system?.stop();
  });

  const provider = () => `clinic-${uuidv4().slice(0, 8)}`;
  const insurer = () => `insurer-${uuidv4().slice(0, 8)}`;
  const claimArrives = async (
    providerId: string,
    items: ClaimSubmittedV1['items'],
    insurerId = 'insurer-test',
    claimId = uuidv7(),
  ) => {
    const draft = claimSubmittedDraft(claimId, { providerId, insurerId, source: 'claimchain/claim-intake' });
    const total = items.reduce((n, i) => n + Number(i.net), 0).toFixed(2);
    const event = buildEvent(Topics.ClaimsSubmitted, { ...draft, data: { ...draft.data, items, total } });
    await producer.send({
      topic: Topics.ClaimsSubmitted,
      messages: [{ key: claimId, value: ownerSigned(Topics.ClaimsSubmitted, event) }],
    });
    await waitFor(`claim ${claimId} here`, async () => {
      const rows: unknown[] = await ds.query(`SELECT 1 FROM claims WHERE claim_id = $1`, [claimId]);
      return rows.length > 0;
    });
    return claimId;
  };
  const call = async (role: 'provider' | 'ops', as: string, method: string, path: string, body?: unknown) =>
    fetch(system.url('treatment-verification', path), {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(method === 'POST' ? { 'idempotency-key': uuidv4() } : {}),
        ...(await system.as(role, as)),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const confirm = async (as: string, claimId: string, performed: unknown[]) => {
    const res = await call('provider', as, 'POST', '/v1/confirmations', { claimId, performed });
    return { status: res.status, body: (await res.json()) as Confirmation };
  };
  const withdraw = (as: string, id: string) => call('provider', as, 'POST', `/v1/confirmations/${id}/withdraw`);
  const listOf = async (as: string) =>
    ((await (await call('provider', as, 'GET', '/v1/confirmations')).json()) as { items: Confirmation[] }).items;
  const eventsFor = async (claimId: string) =>
    (await ds.query(`SELECT topic, payload FROM outbox WHERE message_key = $1 ORDER BY seq`, [claimId])) as {
      topic: string;
      payload: { data: unknown };
    }[];

  describe('each claimed line on its own', () => {
    it('verifies the lines performed, says why the others are not, and reports what was not claimed', async () => {
      const own = provider();
      const claimId = await claimArrives(own, [line(1, '99213'), line(2, '85025', 2), line(3, '36415')]);
      const res = await confirm(own, claimId, [done('99213'), done('85025', 1), done('80053')]);
      expect(res.status).toBe(201);
      expect(res.body.outcome).toBe('verified');
      expect(res.body.reasons.map((r) => [r.sequence, r.code])).toEqual([
        [2, 'QUANTITY_SHORT'],
        [3, 'NOT_PERFORMED'],
        [undefined, 'NOT_CLAIMED'],
        [undefined, 'NOT_CLAIMED'],
      ]);
      const [event] = await eventsFor(claimId);
      expect(event.topic).toBe(Topics.TreatmentsVerified);
      const data = event.payload.data as TreatmentVerifiedV1;
      expect(data.items.map((i) => i.sequence)).toEqual([1]);
      expect(data.unverified!.map((u) => [u.sequence, u.code])).toEqual([
        [2, 'QUANTITY_SHORT'],
        [3, 'NOT_PERFORMED'],
      ]);
      expect(data.unclaimed).toEqual([done('85025', 1), done('80053')]);
    });

    it('announces a fully matched claim exactly as before: no unverified or unclaimed fields', async () => {
      const own = provider();
      const claimId = await claimArrives(own, [line(1, '99213')]);
      expect((await confirm(own, claimId, [done('99213')])).body).toMatchObject({ outcome: 'verified', reasons: [] });
      const data = (await eventsFor(claimId))[0].payload.data as Record<string, unknown>;
      expect(Object.keys(data).sort()).toEqual(['claimId', 'confirmationId', 'items', 'providerId', 'verifiedAt']);
    });

    it('rejects a claim none of whose lines matched, with the reasons in treatments.rejected.v1', async () => {
      const own = provider();
      const claimId = await claimArrives(own, [line(1, '99213'), line(2, '85025')]);
      const res = await confirm(own, claimId, [done('99213', 1, '2026-11-25')]);
      expect(res.body.outcome).toBe('rejected');
      const [event] = await eventsFor(claimId);
      expect(event.topic).toBe(Topics.TreatmentsRejected);
      expect((event.payload.data as TreatmentRejectedV1).reasons.map((r) => [r.sequence, r.code])).toEqual([
        [1, 'DATE_MISMATCH'],
        [2, 'NOT_PERFORMED'],
        [undefined, 'NOT_CLAIMED'],
      ]);
    });

    it('matches dates within the tolerance ops set for the insurer, at the tolerance and not beyond', async () => {
      const lenient = insurer();
      const set = await call('ops', 'ops-1', 'PUT', '/v1/attestation-policies', {
        insurerId: lenient,
        signatureRequired: false,
        dateToleranceDays: 2,
      });
      expect(await set.json()).toEqual({
        insurerId: lenient,
        signatureRequired: false,
        dateToleranceDays: 2,
        source: 'insurer',
      });
      const own = provider();
      const claimId = await claimArrives(own, [line(1, '99213'), line(2, '85025')], lenient);
      const res = await confirm(own, claimId, [done('99213', 1, '2026-11-22'), done('85025', 1, '2026-11-17')]);
      expect(res.body.outcome).toBe('verified');
      expect(res.body.reasons).toEqual([
        expect.objectContaining({ sequence: 2, code: 'DATE_MISMATCH' }),
        expect.objectContaining({ code: 'NOT_CLAIMED' }),
      ]);
      const data = (await eventsFor(claimId))[0].payload.data as TreatmentVerifiedV1;
      expect(data.items).toEqual([{ ...done('99213', 1, '2026-11-22'), sequence: 1 }]);
    });

    it('refuses a tolerance beyond 30 days, naming the field', async () => {
      const res = await call('ops', 'ops-1', 'PUT', '/v1/attestation-policies', {
        insurerId: insurer(),
        signatureRequired: false,
        dateToleranceDays: 31,
      });
      expect(res.status).toBe(400);
      expect(JSON.stringify(await res.json())).toContain('/dateToleranceDays');
    });
  });

  describe('corrections', () => {
    it('lets the provider correct a rejected confirmation; the rejected one is kept, superseded', async () => {
      const own = provider();
      const claimId = await claimArrives(own, [line(1, '99213')]);
      const rejected = await confirm(own, claimId, [done('99214')]);
      expect(rejected.body.outcome).toBe('rejected');
      const corrected = await confirm(own, claimId, [done('99213')]);
      expect(corrected.status).toBe(201);
      expect(corrected.body).toMatchObject({ outcome: 'verified', supersedes: rejected.body.confirmationId });

      const history = await listOf(own);
      expect(history.map((c) => [c.confirmationId, c.outcome, c.supersedes])).toEqual([
        [corrected.body.confirmationId, 'verified', rejected.body.confirmationId],
        [rejected.body.confirmationId, 'superseded', null],
      ]);
      expect(history[1].reasons.map((r) => r.code)).toEqual(['NOT_PERFORMED', 'NOT_CLAIMED', 'SUPERSEDED']);
      expect((await eventsFor(claimId)).map((e) => e.topic)).toEqual([
        Topics.TreatmentsRejected,
        Topics.TreatmentsVerified,
      ]);
    });

    it('does not let a verified confirmation be replaced by another', async () => {
      const own = provider();
      const claimId = await claimArrives(own, [line(1, '99213'), line(2, '85025')]);
      expect((await confirm(own, claimId, [done('99213')])).body.outcome).toBe('verified');
      const again = await confirm(own, claimId, [done('99213'), done('85025')]);
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ code: 'CONFIRMATION.ALREADY_RECORDED' });
    });
  });

  describe('withdrawal', () => {
    it('withdraws a pending confirmation, which the claim’s arrival then leaves alone', async () => {
      const own = provider();
      const claimId = uuidv7();
      const pending = await confirm(own, claimId, [done('99213')]);
      expect(pending.status).toBe(202);
      const res = await withdraw(own, pending.body.confirmationId);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ outcome: 'withdrawn', reasons: [{ code: 'WITHDRAWN' }] });
      // Withdrawing again answers the same.
      expect((await withdraw(own, pending.body.confirmationId)).status).toBe(200);

      await claimArrives(own, [line(1, '99213')], 'insurer-test', claimId);
      const worklist = (await (await call('provider', own, 'GET', '/v1/worklist')).json()) as {
        items: { claimId: string }[];
      };
      expect(worklist.items.map((c) => c.claimId)).toEqual([claimId]);
      expect(await eventsFor(claimId)).toEqual([]);
      // The provider can confirm the claim afresh.
      expect((await confirm(own, claimId, [done('99213')])).body.outcome).toBe('verified');
    });

    it('refuses to withdraw a rejected confirmation (409: it is corrected instead), and another provider’s (404)', async () => {
      const own = provider();
      const claimId = await claimArrives(own, [line(1, '99213')]);
      const rejected = await confirm(own, claimId, [done('80053')]);
      expect(rejected.body.outcome).toBe('rejected');
      const refused = await withdraw(own, rejected.body.confirmationId);
      expect(refused.status).toBe(409);
      expect(await refused.json()).toMatchObject({
        code: 'CONFIRMATION.NOT_WITHDRAWABLE',
        errors: [{ pointer: '/id', detail: expect.stringContaining('confirm the claim again') }],
      });
      expect((await withdraw(provider(), rejected.body.confirmationId)).status).toBe(404);
      // A verified one is a request payout answers (ADR 22; confirmation-withdrawal.int-spec).
    });
  });
});
