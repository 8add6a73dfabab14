import { Kafka, Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import { v4 as uuidv4, v7 as uuidv7 } from 'uuid';
import { CloudEvent, TopicName, Topics } from '@claimchain/wire';
import { buildEvent, createKafka } from '@claimchain/messaging';
import { claimSubmittedDraft, CPT, ownerSigned, waitFor } from '@claimchain/testing';
import { ConfirmTreatmentService } from './confirm-treatment/confirm-treatment.service';
import { PendingConfirmationsExpiry } from './expire-pending/pending-confirmations.expiry';
import { RunningSystem, startSystem } from '../../../../test/e2e/system';

/** What a provider confirms for claimSubmittedDraft's one line. */
const PERFORMED = [{ system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-20' }];

interface Confirmation {
  confirmationId: string;
  claimId: string;
  outcome: string;
  reasons: { code: string; message: string }[];
}

/**
 * treatment-verification's confirmations API driven as providers use it, over HTTP, with claims and cancellations
 * arriving on the real broker as claim-intake sends them: only a claim's own provider's confirmation counts
 * (issue 14 item 3), a retried POST gets its original answer, a cancellation stops a confirmation, and a provider
 * finds its work without out-of-band ids (issue 15).
 */
describe(ConfirmTreatmentService.name, () => {
  let system: RunningSystem;
  let ds: DataSource;
  let kafka: Kafka;
  let producer: Producer;

  beforeAll(async () => {
    system = await startSystem({ services: ['treatment-verification'] });
    ds = system.app('treatment-verification').get(DataSource);
    kafka = createKafka('confirmations-int-spec', process.env.KAFKA_BROKERS!.split(','));
    producer = kafka.producer();
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await system?.stop();
  });

  const provider = () => `clinic-${uuidv4().slice(0, 8)}`;
  const send = (event: CloudEvent, topic: TopicName) =>
    producer.send({ topic, messages: [{ key: event.subject, value: ownerSigned(topic, event) }] });
  /** claim-intake's claims.submitted.v1 for a claim naming `providerId` (ids are UUIDv7, as claim-intake's). */
  const claimArrives = (providerId: string, claimId = uuidv7()) =>
    send(
      buildEvent(
        Topics.ClaimsSubmitted,
        claimSubmittedDraft(claimId, { providerId, source: 'claimchain/claim-intake' }),
      ),
      Topics.ClaimsSubmitted,
    ).then(() => claimId);
  const claimCancelled = (claimId: string) =>
    send(
      buildEvent(Topics.ClaimsCancelled, {
        source: 'claimchain/claim-intake',
        subject: claimId,
        tenantid: 'insurer-test',
        data: { claimId, insurerId: 'insurer-test', reason: 'entered in error', cancelledAt: new Date().toISOString() },
      }),
      Topics.ClaimsCancelled,
    );

  const post = async (as: string, body: unknown, key: string | null = uuidv4()) =>
    fetch(system.url('treatment-verification', '/v1/confirmations'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(key ? { 'idempotency-key': key } : {}),
        ...(await system.as('provider', as)),
      },
      body: JSON.stringify(body),
    });
  const confirm = async (as: string, claimId: string, performed: unknown = PERFORMED) => {
    const res = await post(as, { claimId, performed });
    return { status: res.status, body: (await res.json()) as Confirmation };
  };
  const codeOf = async (res: Response) => ((await res.json()) as { code: string }).code;
  const get = async (as: string, path: string) =>
    fetch(system.url('treatment-verification', path), { headers: await system.as('provider', as) });
  const confirmationOf = async (as: string, id: string) => {
    const res = await get(as, `/v1/confirmations/${id}`);
    return res.status === 200 ? ((await res.json()) as Confirmation) : res.status;
  };
  const outcomeBecomes = (as: string, id: string, outcome: string) =>
    waitFor(`confirmation ${id} to be ${outcome}`, async () => {
      const c = await confirmationOf(as, id);
      return typeof c === 'object' && c.outcome === outcome && c;
    });
  const worklist = async (as: string, query = '') =>
    (await (await get(as, `/v1/worklist${query}`)).json()) as {
      items: { claimId: string; items: { code: string }[] }[];
      nextCursor: string | null;
    };
  const inWorklist = (as: string, claimId: string) =>
    waitFor(`claim ${claimId} in ${as}'s worklist`, async () =>
      (await worklist(as, '?limit=200')).items.some((c) => c.claimId === claimId),
    );
  const eventsFor = async (claimId: string) =>
    (
      (await ds.query(`SELECT topic FROM outbox WHERE message_key = $1 ORDER BY seq`, [claimId])) as { topic: string }[]
    ).map((r) => r.topic);

  describe('only the claim’s own provider', () => {
    it('lets several providers wait on one claim id, and decides it on its own provider’s confirmation alone', async () => {
      const own = provider();
      const squatter = provider();
      const claimId = uuidv7();
      const squatted = await confirm(squatter, claimId);
      const real = await confirm(own, claimId);
      // Before: the real provider got 409 here, and the claim then waited for ever.
      expect([squatted.status, real.status]).toEqual([202, 202]);

      await claimArrives(own, claimId);
      expect(await outcomeBecomes(own, real.body.confirmationId, 'verified')).toMatchObject({ reasons: [] });
      expect(await outcomeBecomes(squatter, squatted.body.confirmationId, 'discarded')).toMatchObject({
        reasons: [{ code: 'NOT_CLAIM_PROVIDER' }],
      });
      expect(await eventsFor(claimId)).toEqual([Topics.TreatmentsVerified]);
      // Each reads its own confirmation only.
      expect(await confirmationOf(own, squatted.body.confirmationId)).toBe(404);
      expect(await confirmationOf(squatter, real.body.confirmationId)).toBe(404);
    });

    it('answers a confirmation of a claim naming another provider exactly as one for a claim not yet here', async () => {
      const own = provider();
      const other = provider();
      const claimId = await claimArrives(own);
      await inWorklist(own, claimId);

      const forOthers = await post(other, { claimId, performed: PERFORMED });
      const forNothing = await post(other, { claimId: uuidv7(), performed: PERFORMED });
      expect([forOthers.status, forNothing.status]).toEqual([202, 202]);
      const [a, b] = [(await forOthers.json()) as Confirmation, (await forNothing.json()) as Confirmation];
      expect({ ...a, confirmationId: 'x', claimId: 'x' }).toEqual({ ...b, confirmationId: 'x', claimId: 'x' });
      // A second try at either is refused alike.
      const [again1, again2] = [
        await post(other, { claimId, performed: PERFORMED }),
        await post(other, { claimId: b.claimId, performed: PERFORMED }),
      ];
      expect([again1.status, again2.status]).toEqual([409, 409]);
      expect(await codeOf(again1)).toBe(await codeOf(again2));

      // Neither decides nor blocks the claim: its provider confirms it.
      expect(await confirm(own, claimId)).toMatchObject({ status: 201, body: { outcome: 'verified' } });
      expect(await confirmationOf(other, a.confirmationId)).toMatchObject({ outcome: 'pending' });

      // And both end alike when their time is up.
      const expiry = system.app('treatment-verification').get(PendingConfirmationsExpiry);
      await expiry.expireOnce(new Date(Date.now() + 31 * 86_400_000));
      const [endedA, endedB] = [
        await confirmationOf(other, a.confirmationId),
        await confirmationOf(other, b.confirmationId),
      ];
      expect(endedA).toMatchObject({ outcome: 'expired', reasons: [{ code: 'CLAIM_NOT_RECEIVED' }] });
      expect((endedA as Confirmation).reasons).toEqual((endedB as Confirmation).reasons);
      expect(await eventsFor(claimId)).toEqual([Topics.TreatmentsVerified]);
    });
  });

  describe('Idempotency-Key', () => {
    it('answers a retry with the original answer, and records one confirmation', async () => {
      const own = provider();
      const claimId = await claimArrives(own);
      await inWorklist(own, claimId);
      const key = uuidv4();
      const first = await post(own, { claimId, performed: PERFORMED }, key);
      const retry = await post(own, { claimId, performed: PERFORMED }, key);
      expect([first.status, retry.status]).toEqual([201, 201]);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(retry.headers.get('location')).toBe(first.headers.get('location'));
      expect(await retry.json()).toEqual(await first.json());
      // A new key is a new confirmation of a claim that has one.
      expect((await post(own, { claimId, performed: PERFORMED })).status).toBe(409);
      expect(await eventsFor(claimId)).toEqual([Topics.TreatmentsVerified]);
    });

    it('gives requests sent together with one key one confirmation and one answer', async () => {
      const own = provider();
      const claimId = uuidv7();
      const key = uuidv4();
      const answers = await Promise.all(
        Array.from({ length: 4 }, () => post(own, { claimId, performed: PERFORMED }, key)),
      );
      const bodies = (await Promise.all(answers.map((a) => a.json()))) as Confirmation[];
      expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202]);
      expect(new Set(bodies.map((b) => b.confirmationId)).size).toBe(1);
      const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM confirmations WHERE claim_id = $1`, [claimId]);
      expect(n).toBe(1);
    });

    it('refuses a field it does not know rather than dropping it, naming it (the document says so)', async () => {
      const res = await post(provider(), { claimId: uuidv7(), performed: [{ ...PERFORMED[0], modifier: '25' }] });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({
        code: 'CONFIRMATION.INVALID',
        errors: [{ pointer: '/performed/0', detail: expect.stringContaining('modifier') }],
      });
    });

    it('refuses the key with another body (422) and a missing key (400), naming the header', async () => {
      const own = provider();
      const key = uuidv4();
      expect((await post(own, { claimId: uuidv7(), performed: PERFORMED }, key)).status).toBe(202);
      const reused = await post(own, { claimId: uuidv7(), performed: PERFORMED }, key);
      expect(reused.status).toBe(422);
      expect(reused.headers.get('content-type')).toContain('application/problem+json');
      expect(await reused.json()).toMatchObject({
        code: 'IDEMPOTENCY.KEY_REUSED',
        errors: [{ pointer: '/headers/idempotency-key' }],
      });
      const missing = await post(own, { claimId: uuidv7(), performed: PERFORMED }, null);
      expect(missing.status).toBe(400);
      expect(await missing.json()).toMatchObject({
        code: 'IDEMPOTENCY.KEY_REQUIRED',
        errors: [{ pointer: '/headers/idempotency-key' }],
      });
    });

    it('evaluates a refused request afresh when it is retried with its key', async () => {
      const own = provider();
      const claimId = await claimArrives(own);
      await inWorklist(own, claimId);
      await claimCancelled(claimId);
      await waitFor('the cancellation', async () => !(await worklist(own, '?limit=200')).items.length);
      const key = uuidv4();
      const refused = await post(own, { claimId, performed: PERFORMED }, key);
      expect(refused.status).toBe(409);
      expect(await codeOf(refused)).toBe('CONFIRMATION.CLAIM_CANCELLED');
      const retried = await post(own, { claimId, performed: PERFORMED }, key);
      expect([retried.status, retried.headers.get('idempotent-replayed')]).toEqual([409, null]);
    });
  });

  describe('claims.cancelled.v1', () => {
    it('cancels its own provider’s verified confirmation, which its provider reads', async () => {
      const own = provider();
      const claimId = await claimArrives(own);
      await inWorklist(own, claimId);
      const verified = await confirm(own, claimId);
      expect(verified.body.outcome).toBe('verified');
      await claimCancelled(claimId);
      expect(await outcomeBecomes(own, verified.body.confirmationId, 'cancelled')).toMatchObject({
        reasons: [{ code: 'CLAIM_CANCELLED' }],
      });
      expect((await post(own, { claimId, performed: PERFORMED })).status).toBe(409);
    });

    it('cancels a confirmation waiting for a claim whose cancellation was consumed before the claim itself', async () => {
      const own = provider();
      const other = provider();
      const claimId = uuidv7();
      const waiting = await confirm(own, claimId);
      const squatted = await confirm(other, claimId);
      await claimCancelled(claimId);
      await waitFor(
        'the cancellation to be remembered',
        async () => (await ds.query(`SELECT 1 FROM cancelled_claims WHERE claim_id = $1`, [claimId])).length === 1,
      );
      // Until the claim arrives nobody can tell whose it is, so both still wait.
      expect(await confirmationOf(own, waiting.body.confirmationId)).toMatchObject({ outcome: 'pending' });
      await claimArrives(own, claimId);
      expect(await outcomeBecomes(own, waiting.body.confirmationId, 'cancelled')).toMatchObject({
        reasons: [{ code: 'CLAIM_CANCELLED' }],
      });
      expect(await outcomeBecomes(other, squatted.body.confirmationId, 'discarded')).toBeTruthy();
      expect(await eventsFor(claimId)).toEqual([]);
    });

    it('tells only the claim’s own provider that it was cancelled', async () => {
      const own = provider();
      const claimId = await claimArrives(own);
      await inWorklist(own, claimId);
      await claimCancelled(claimId);
      await waitFor('the claim to leave the worklist', async () => !(await worklist(own, '?limit=200')).items.length);
      expect(await confirm(own, claimId)).toMatchObject({
        status: 409,
        body: { code: 'CONFIRMATION.CLAIM_CANCELLED' },
      });
      expect(await confirm(provider(), claimId)).toMatchObject({ status: 202, body: { outcome: 'pending' } });
    });
  });

  describe('the provider’s worklist', () => {
    it('lists the claims naming the caller that wait for its confirmation, a page at a time, and no one else’s', async () => {
      const own = provider();
      const first = await claimArrives(own);
      const second = await claimArrives(own);
      const others = await claimArrives(provider());
      await inWorklist(own, second);
      await inWorklist(own, first);

      const page1 = await worklist(own, '?limit=1');
      expect(page1.items.map((c) => c.claimId)).toEqual([first]);
      expect(page1.items[0].items.map((l) => l.code)).toEqual(['99213']);
      const page2 = await worklist(own, `?limit=1&cursor=${page1.nextCursor}`);
      expect(page2).toEqual({ items: [expect.objectContaining({ claimId: second })], nextCursor: null });
      expect((await worklist(own, '?limit=200')).items.map((c) => c.claimId)).not.toContain(others);

      await confirm(own, first);
      expect((await worklist(own)).items.map((c) => c.claimId)).toEqual([second]);
    });

    it('lists the caller’s confirmations newest first, by outcome and posting time, a page at a time', async () => {
      const own = provider();
      const claimId = await claimArrives(own);
      await inWorklist(own, claimId);
      const before = new Date().toISOString();
      const verified = (await confirm(own, claimId)).body;
      const pending = (await confirm(own, uuidv7())).body;
      await confirm(provider(), uuidv7());
      const list = async (query: string) =>
        (await (await get(own, `/v1/confirmations${query}`)).json()) as {
          items: Confirmation[];
          nextCursor: string | null;
        };

      expect((await list('')).items.map((c) => c.confirmationId)).toEqual([
        pending.confirmationId,
        verified.confirmationId,
      ]);
      expect((await list('?outcome=verified')).items).toEqual([
        expect.objectContaining({ confirmationId: verified.confirmationId, postedAt: expect.any(String) }),
      ]);
      expect((await list('?outcome=pending,verified')).items).toHaveLength(2);
      expect((await list(`?postedFrom=${before}`)).items).toHaveLength(2);
      expect((await list(`?postedTo=${before}`)).items).toHaveLength(0);
      const page1 = await list('?limit=1');
      expect(page1.items.map((c) => c.confirmationId)).toEqual([pending.confirmationId]);
      const page2 = await list(`?limit=1&cursor=${page1.nextCursor}`);
      expect(page2).toEqual({
        items: [expect.objectContaining({ confirmationId: verified.confirmationId })],
        nextCursor: null,
      });
    });

    it('documents the worklist, the listing and the required Idempotency-Key in the OpenAPI document', async () => {
      const doc = (await (await fetch(system.url('treatment-verification', '/docs-json'))).json()) as {
        paths: Record<string, Record<string, { parameters?: { name: string; in: string; required?: boolean }[] }>>;
      };
      const params = (path: string, method: string) =>
        (doc.paths[path][method].parameters ?? []).map((p) => `${p.in}:${p.name}:${p.required === true}`);
      expect(params('/v1/confirmations', 'post')).toContain('header:Idempotency-Key:true');
      expect(params('/v1/confirmations', 'get')).toEqual(
        expect.arrayContaining(['query:outcome:false', 'query:postedFrom:false', 'query:cursor:false']),
      );
      expect(params('/v1/worklist', 'get')).toEqual(
        expect.arrayContaining(['query:limit:false', 'query:cursor:false']),
      );
    });

    it.each([
      ['/v1/confirmations?outcome=approved', '/outcome/0'],
      ['/v1/confirmations?limit=201', '/limit'],
      ['/v1/confirmations?postedFrom=2026-02-30T00:00:00Z', '/postedFrom'],
      ['/v1/confirmations?cursor=nope', '/cursor'],
      ['/v1/worklist?limit=0', '/limit'],
    ])('refuses %s with a 400 problem naming %s', async (path, pointer) => {
      const res = await get(provider(), path);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const problem = (await res.json()) as { errors: { pointer: string }[] };
      expect(problem.errors.map((e) => e.pointer)).toContain(pointer);
    });
  });
});
