import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { waitFor } from '@claimchain/testing';
import { fhirClaim, fhirClaimTreatments, newKey, RunningSystem, startSystem } from './system';

/** Claim intake as an insurer's integration meets it: retries, duplicates, cancellation, listing. */
describe('claims API', () => {
  let system: RunningSystem;
  let insurer: { authorization: string };
  let clinic: { authorization: string };
  const tenant = `insurer-${uuidv4().slice(0, 8)}`;

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(system.url('claim-intake', path), {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', ...insurer, ...headers },
      body: JSON.stringify(body),
    });
  const get = async <T>(path: string) =>
    (await (await fetch(system.url('claim-intake', path), { headers: insurer })).json()) as T;
  const claimFor = (patient: string) => fhirClaim(patient, tenant, 'clinic-api');
  type Claim = {
    status: string;
    decision: string | null;
    paid: string | null;
    cancelReason: string | null;
    timeline: { type: string; event: { data: Record<string, unknown> } | null }[];
  };
  const statusBecomes = async (id: string, status: string): Promise<Claim> => {
    let claim: Claim | undefined;
    await waitFor(`claim ${id} to be ${status}`, async () => {
      claim = await get<Claim>(`/v1/claims/${id}`);
      return claim.status === status;
    });
    return claim!;
  };
  /** Payout's answer to the claim's cancellation, from its timeline. */
  const answerOf = (claim: Claim) => claim.timeline.find((e) => e.type === 'payout.cancellation-decided')?.event?.data;

  beforeAll(async () => {
    system = await startSystem();
    insurer = await system.as('insurer', tenant);
    clinic = await system.as('provider', 'clinic-api');
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
  });

  describe('the submission as sent', () => {
    it('is kept byte for byte and proven unchanged by the commitment in the ledger-recorded claims.submitted event', async () => {
      // Decimals with trailing zeros, unusual spacing and key order: what JSON.parse and a re-serialisation lose.
      const sent = JSON.stringify(claimFor(`p-${uuidv4()}`), null, 3)
        .replace(/"value": 120(,|\n)/g, '"value": 120.00$1')
        .replace('"resourceType": "Claim"', '"resourceType" :  "Claim"');
      expect(sent).toContain('120.00');
      const res = await fetch(system.url('claim-intake', '/v1/claims'), {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', ...insurer, ...newKey() },
        body: sent,
      });
      expect(res.status).toBe(202);
      const { id } = (await res.json()) as { id: string };

      const stored = await fetch(system.url('claim-intake', `/v1/claims/${id}/submission`), { headers: insurer });
      expect(stored.status).toBe(200);
      expect(stored.headers.get('content-type')).toContain('application/fhir+json');
      const body = await stored.text();
      expect(body).toBe(sent);
      const digest = createHash('sha256').update(body).digest('base64');
      expect(stored.headers.get('repr-digest')).toBe(`sha-256=:${digest}:`);

      const salt = Buffer.from(stored.headers.get('claimchain-submission-salt')!, 'hex');
      expect(salt).toHaveLength(16);
      const claim = await get<{ timeline: { type: string; event: { data: { submissionCommitment?: string } } }[] }>(
        `/v1/claims/${id}`,
      );
      const submitted = claim.timeline.find((e) => e.type === 'claim.submitted')!;
      const commitment = createHash('sha256').update(salt).update(body).digest('hex');
      expect(submitted.event.data.submissionCommitment).toBe(commitment);

      // Another insurer cannot read it, and cannot tell that it exists.
      const other = await system.as('insurer', 'another-insurer');
      const foreign = await fetch(system.url('claim-intake', `/v1/claims/${id}/submission`), { headers: other });
      expect(foreign.status).toBe(404);
    });
  });

  describe('a claim Postgres could not store', () => {
    it('is refused alone (400 problem+json naming the element), so the valid claims sent with it are still stored', async () => {
      const bad = claimFor(`p-${uuidv4()}`);
      bad.item[0].productOrService.coding[0].code = '992\u000013';
      const [refused, ...valid] = await Promise.all([
        post('/v1/claims', bad, newKey()),
        ...Array.from({ length: 3 }, () => post('/v1/claims', claimFor(`p-${uuidv4()}`), newKey())),
      ]);
      expect(refused.status).toBe(400);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      const problem = (await refused.json()) as { code: string; errors: { pointer: string }[] };
      expect(problem.code).toBe('REQUEST.UNSTORABLE_TEXT');
      expect(problem.errors.map((e) => e.pointer)).toEqual(['/item/0/productOrService/coding/0/code']);
      expect(valid.map((r) => r.status)).toEqual([202, 202, 202]);
    });
  });

  describe('Idempotency-Key', () => {
    it('answers a retry with the same key and body with the original response', async () => {
      const key = newKey();
      const claim = claimFor(`p-${uuidv4()}`);
      const first = await post('/v1/claims', claim, key);
      const again = await post('/v1/claims', claim, key);
      expect(first.status).toBe(202);
      expect(again.status).toBe(202);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await again.json()).toEqual(await first.json());
    });

    it('refuses the same key with a different body (422, naming the header)', async () => {
      const key = newKey();
      expect((await post('/v1/claims', claimFor(`p-${uuidv4()}`), key)).status).toBe(202);
      const res = await post('/v1/claims', claimFor(`p-${uuidv4()}`), key);
      expect(res.status).toBe(422);
      const problem = (await res.json()) as { code: string; errors: { pointer: string }[] };
      expect(problem.code).toBe('IDEMPOTENCY.KEY_REUSED');
      expect(problem.errors[0].pointer).toBe('/headers/idempotency-key');
    });

    it('requires the header on create', async () => {
      const res = await post('/v1/claims', claimFor(`p-${uuidv4()}`));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe('IDEMPOTENCY.KEY_REQUIRED');
    });

    it('creates exactly one claim when concurrent requests share a key', async () => {
      const key = newKey();
      const patient = `p-${uuidv4()}`;
      const responses = await Promise.all(Array.from({ length: 12 }, () => post('/v1/claims', claimFor(patient), key)));
      expect(responses.map((r) => r.status)).toEqual(Array(12).fill(202));
      const ids = new Set(await Promise.all(responses.map(async (r) => ((await r.json()) as { id: string }).id)));
      expect(ids.size).toBe(1);
      const db = system.app('claim-intake').get(DataSource);
      const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM claims WHERE id = ANY($1::uuid[])`, [[...ids]]);
      expect(n).toBe(1);
    });
  });

  describe('duplicate claims', () => {
    it('refuses a second claim for the same patient, provider, service and date, naming the line and the claim', async () => {
      const patient = `p-${uuidv4()}`;
      const first = (await (await post('/v1/claims', claimFor(patient), newKey())).json()) as { id: string };
      const res = await post('/v1/claims', claimFor(patient), newKey());
      expect(res.status).toBe(409);
      const problem = (await res.json()) as { code: string; errors: { pointer: string; detail: string }[] };
      expect(problem.code).toBe('CLAIM.DUPLICATE');
      expect(problem.errors).toEqual([
        { pointer: '/item/0', detail: `already claimed in claim ${first.id}` },
        { pointer: '/item/1', detail: `already claimed in claim ${first.id}` },
      ]);
    });

    it('accepts a resubmission of a cancelled claim, and refuses one of a claim that may still be paid', async () => {
      const patient = `p-${uuidv4()}`;
      const first = (await (await post('/v1/claims', claimFor(patient), newKey())).json()) as { id: string };
      const related = [{ claim: { reference: `Claim/${first.id}` }, relationship: { coding: [{ code: 'prior' }] } }];

      const early = await post('/v1/claims', { ...claimFor(patient), related }, newKey());
      expect(early.status).toBe(409);
      expect(((await early.json()) as { code: string }).code).toBe('CLAIM.PRIOR_STILL_ACTIVE');

      const cancel = await post(`/v1/claims/${first.id}/cancel`, { reason: 'wrong coverage' });
      expect(cancel.status).toBe(202);
      await statusBecomes(first.id, 'cancelled');
      const resubmitted = await post('/v1/claims', { ...claimFor(patient), related }, newKey());
      expect(resubmitted.status).toBe(202);
      const { id } = (await resubmitted.json()) as { id: string };
      expect(await get<{ resubmissionOf: string }>(`/v1/claims/${id}`)).toMatchObject({ resubmissionOf: first.id });
    });
  });

  describe('cancellation', () => {
    it('stops a cancelled claim from being paid even when the provider then confirms it', async () => {
      const { id } = (await (await post('/v1/claims', claimFor(`p-${uuidv4()}`), newKey())).json()) as { id: string };
      const cancelled = await post(`/v1/claims/${id}/cancel`, { reason: 'patient withdrew' });
      expect(cancelled.status).toBe(202);
      expect(await cancelled.json()).toEqual({ id, status: 'cancel-requested' });
      // Cancelled only once payout answered that it stopped the payment (ADR 16).
      await statusBecomes(id, 'cancelled');
      const payoutDb = system.app('payout').get(DataSource);
      expect(await payoutDb.query(`SELECT 1 FROM cancellations WHERE claim_id = $1`, [id])).toHaveLength(1);
      const again = await post(`/v1/claims/${id}/cancel`, { reason: 'patient withdrew' });
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual({ id, status: 'cancelled' });

      // treatment-verification consumes the cancellation too, and from then on refuses the claim's confirmation
      // (ADR 12), so no verification of it reaches the ledger or payout.
      const tvDb = system.app('treatment-verification').get(DataSource);
      await waitFor('treatment-verification to record the cancellation', async () => {
        const rows: unknown[] = await tvDb.query(`SELECT 1 FROM cancelled_claims WHERE claim_id = $1`, [id]);
        return rows.length === 1;
      });
      const confirm = await fetch(system.url('treatment-verification', '/v1/confirmations'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...clinic, ...newKey() },
        body: JSON.stringify({
          claimId: id,
          performed: fhirClaimTreatments(),
        }),
      });
      expect(confirm.status).toBe(409);
      expect(((await confirm.json()) as { code: string }).code).toBe('CONFIRMATION.CLAIM_CANCELLED');

      const [{ n }] = await payoutDb.query(`SELECT count(*)::int AS n FROM payouts WHERE claim_id = $1`, [id]);
      expect(n).toBe(0);
      const claim = await get<Claim>(`/v1/claims/${id}`);
      expect(claim.status).toBe('cancelled');
      expect(claim.cancelReason).toBe('patient withdrew');
      expect(claim.timeline.map((e) => e.type)).toEqual(
        expect.arrayContaining(['claim.cancelled', 'payout.cancellation-decided']),
      );
      expect(answerOf(claim)).toMatchObject({ outcome: 'stopped', claimId: id });
    });

    it('is a request until payout stops the payment: the claim is cancel-requested and still a duplicate until then', async () => {
      const patient = `p-${uuidv4()}`;
      const { id } = (await (await post('/v1/claims', claimFor(patient), newKey())).json()) as { id: string };
      // Payout decides a cancellation under the claim's lock; holding it keeps payout's answer back.
      const payoutDb = system.app('payout').get(DataSource);
      const held = payoutDb.createQueryRunner();
      await held.connect();
      await held.startTransaction();
      try {
        await held.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`claim:${id}`]);
        const cancel = await post(`/v1/claims/${id}/cancel`, { reason: 'entered twice' });
        expect(cancel.status).toBe(202);
        expect(await cancel.json()).toEqual({ id, status: 'cancel-requested' });
        // Idempotent: asking again while payout has not answered is the same request.
        const again = await post(`/v1/claims/${id}/cancel`, { reason: 'entered twice' });
        expect(again.status).toBe(202);
        expect(await again.json()).toEqual({ id, status: 'cancel-requested' });
        expect((await get<Claim>(`/v1/claims/${id}`)).status).toBe('cancel-requested');

        // Payout may still pay it, so a new claim for the same service is a duplicate, resubmission or not.
        const early = await post('/v1/claims', claimFor(patient), newKey());
        expect(early.status).toBe(409);
        expect(((await early.json()) as { code: string }).code).toBe('CLAIM.DUPLICATE');
        const related = [{ claim: { reference: `Claim/${id}` }, relationship: { coding: [{ code: 'prior' }] } }];
        const prior = await post('/v1/claims', { ...claimFor(patient), related }, newKey());
        expect(prior.status).toBe(409);
        expect(((await prior.json()) as { code: string }).code).toBe('CLAIM.PRIOR_STILL_ACTIVE');
      } finally {
        await held.rollbackTransaction();
        await held.release();
      }
      await statusBecomes(id, 'cancelled');
      const resubmitted = await post('/v1/claims', claimFor(patient), newKey());
      expect(resubmitted.status).toBe(202);
    });

    it('is refused once payout paid the claim, which then shows paid and stays a duplicate (issue 14 item 5)', async () => {
      const patient = `p-${uuidv4()}`;
      const { id } = (await (await post('/v1/claims', claimFor(patient), newKey())).json()) as { id: string };
      await waitFor('treatment-verification to have the claim', async () => {
        const tvDb = system.app('treatment-verification').get(DataSource);
        return (await tvDb.query(`SELECT 1 FROM claims WHERE claim_id = $1`, [id])).length === 1;
      });
      // claim-intake's read model lags behind payout: its consumer cannot record what it consumes while this
      // transaction holds the inbox, so the claim still shows what it showed before payout paid it.
      const intakeDb = system.app('claim-intake').get(DataSource);
      const lag = intakeDb.createQueryRunner();
      await lag.connect();
      await lag.startTransaction();
      try {
        await lag.query(`LOCK TABLE inbox IN SHARE ROW EXCLUSIVE MODE`);
        const confirmed = await fetch(system.url('treatment-verification', '/v1/confirmations'), {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...clinic, ...newKey() },
          body: JSON.stringify({ claimId: id, performed: fhirClaimTreatments() }),
        });
        expect(confirmed.status).toBe(201);
        const payoutDb = system.app('payout').get(DataSource);
        await waitFor('payout to pay the claim', async () => {
          const rows: unknown[] = await payoutDb.query(`SELECT 1 FROM payouts WHERE claim_id = $1`, [id]);
          return rows.length === 1;
        });
        expect((await get<Claim>(`/v1/claims/${id}`)).status).toBe('submitted');

        // The insurer cancels: claim-intake cannot know it was paid, so it asks payout.
        const cancel = await post(`/v1/claims/${id}/cancel`, { reason: 'sent to the wrong insurer' });
        expect(cancel.status).toBe(202);
        expect(await cancel.json()).toEqual({ id, status: 'cancel-requested' });
        // Before (and whatever) payout answers, a claim for the same service is a duplicate: no second payment.
        const b = await post('/v1/claims', claimFor(patient), newKey());
        expect(b.status).toBe(409);
        expect(((await b.json()) as { code: string }).code).toBe('CLAIM.DUPLICATE');

        await waitFor('payout to answer the cancellation', async () => {
          const rows: unknown[] = await payoutDb.query(
            `SELECT 1 FROM outbox WHERE topic = 'payouts.cancellation-decided.v1' AND payload->>'subject' = $1`,
            [id],
          );
          return rows.length === 1;
        });
      } finally {
        await lag.rollbackTransaction();
        await lag.release();
      }

      await statusBecomes(id, 'paid');
      // `paid` may come from payouts.released before claim-intake consumed payout's answer (another topic).
      let claim: Claim | undefined;
      await waitFor('payout’s answer in the timeline', async () => {
        claim = await get<Claim>(`/v1/claims/${id}`);
        return answerOf(claim) !== undefined;
      });
      expect(claim).toMatchObject({ status: 'paid', decision: 'approved', paid: '120.40' });
      expect(answerOf(claim!)).toMatchObject({
        outcome: 'refused',
        claimId: id,
        decision: 'approved',
        payout: { amount: '120.40' },
      });
      expect(claim!.timeline.map((e) => e.type)).toContain('claim.cancelled');
      const [{ n }] = await system
        .app('payout')
        .get(DataSource)
        .query(`SELECT count(*)::int AS n FROM cancellations WHERE claim_id = $1`, [id]);
      expect(n).toBe(0);

      // The resubmission is still refused, with or without naming A as its prior.
      const b = await post('/v1/claims', claimFor(patient), newKey());
      expect(b.status).toBe(409);
      expect(((await b.json()) as { code: string }).code).toBe('CLAIM.DUPLICATE');
      const related = [{ claim: { reference: `Claim/${id}` }, relationship: { coding: [{ code: 'prior' }] } }];
      const prior = await post('/v1/claims', { ...claimFor(patient), related }, newKey());
      expect(prior.status).toBe(409);
      expect(((await prior.json()) as { code: string }).code).toBe('CLAIM.PRIOR_STILL_ACTIVE');
      const again = await post(`/v1/claims/${id}/cancel`, { reason: 'sent to the wrong insurer' });
      expect(again.status).toBe(409);
      expect(((await again.json()) as { code: string }).code).toBe('CLAIM.NOT_CANCELLABLE');
    });

    it('refuses to cancel a paid claim', async () => {
      const { id } = (await (await post('/v1/claims', claimFor(`p-${uuidv4()}`), newKey())).json()) as { id: string };
      await fetch(system.url('treatment-verification', '/v1/confirmations'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...clinic, ...newKey() },
        body: JSON.stringify({
          claimId: id,
          performed: fhirClaimTreatments(),
        }),
      });
      await waitFor(
        'the claim to be paid',
        async () => (await get<{ status: string }>(`/v1/claims/${id}`)).status === 'paid',
      );
      const res = await post(`/v1/claims/${id}/cancel`, { reason: 'too late' });
      expect(res.status).toBe(409);
      expect(((await res.json()) as { code: string }).code).toBe('CLAIM.NOT_CANCELLABLE');
    });
  });

  describe('listing', () => {
    it('pages through the caller’s claims newest first and filters by status', async () => {
      const lister = `insurer-${uuidv4().slice(0, 8)}`;
      const auth = await system.as('insurer', lister);
      const created: string[] = [];
      for (let i = 0; i < 5; i += 1) {
        const res = await fetch(system.url('claim-intake', '/v1/claims'), {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...auth, ...newKey() },
          body: JSON.stringify(fhirClaim(`p-list-${i}`, lister, 'clinic-api')),
        });
        created.push(((await res.json()) as { id: string }).id);
      }
      await fetch(system.url('claim-intake', `/v1/claims/${created[0]}/cancel`), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify({ reason: 'test' }),
      });
      await waitFor('payout to stop the cancelled claim', async () => {
        const res = await fetch(system.url('claim-intake', `/v1/claims/${created[0]}`), { headers: auth });
        return ((await res.json()) as { status: string }).status === 'cancelled';
      });

      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `/v1/claims?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const page = (await (await fetch(system.url('claim-intake', query), { headers: auth })).json()) as {
          items: { id: string }[];
          nextCursor: string | null;
        };
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((c) => c.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual([...created].reverse());

      const cancelled = (await (
        await fetch(system.url('claim-intake', '/v1/claims?status=cancelled'), { headers: auth })
      ).json()) as { items: { id: string }[] };
      expect(cancelled.items.map((c) => c.id)).toEqual([created[0]]);
    });

    it('answers a bad filter or cursor with problem+json naming the parameter', async () => {
      const bad = await fetch(system.url('claim-intake', '/v1/claims?status=lost&cursor=zzz'), { headers: insurer });
      expect(bad.status).toBe(400);
      const problem = (await bad.json()) as { errors: { pointer: string }[] };
      expect(problem.errors.map((e) => e.pointer)).toContain('/status/0');
    });
  });
});
