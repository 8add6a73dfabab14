import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { Topics } from '@claimchain/wire';
import { claimItem, waitFor } from '@claimchain/testing';
import { claimOnCoverage, CPT, fhirClaim, fhirClaimTreatments, newKey, RunningSystem, startSystem } from './system';

const covered = {
  name: 'covered',
  conditions: { all: [{ fact: 'quantity', operator: 'greaterThan', value: 0 }] },
  event: { type: 'pay-line' },
};

/** A contract with a 50.00 deductible, 10% coinsurance and a 1,000.00 annual limit. */
const contractBody = (name = 'gold') => ({
  name,
  version: '2026',
  parameters: {
    currency: 'EUR',
    coinsurancePercent: 10,
    deductible: '50.00',
    annualLimit: '1000.00',
    excludedCodes: [`${CPT}|15780`],
  },
  rules: [covered],
});

const CLAIM_TYPE = 'http://terminology.hl7.org/CodeSystem/claim-type';

describe('payout contracts, policies and adjudication v2', () => {
  let system: RunningSystem;
  const tenant = `insurer-${uuidv4()}`;
  let insurer: { authorization: string };
  let otherInsurer: { authorization: string };
  let provider: { authorization: string };
  const url = (path: string) => system.url('payout', path);

  beforeAll(async () => {
    system = await startSystem();
    insurer = await system.as('insurer', tenant);
    otherInsurer = await system.as('insurer', `other-${uuidv4()}`);
    provider = await system.as('provider', 'clinic-e2e');
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
  });

  const post = (path: string, body: unknown, auth = insurer, headers: Record<string, string> = newKey()) =>
    fetch(url(path), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth, ...headers },
      body: JSON.stringify(body),
    });
  const get = (path: string, auth = insurer) => fetch(url(path), { headers: auth });

  async function publish(body: unknown): Promise<{ id: string }> {
    const res = await post('/v1/contracts', body);
    expect([200, 201]).toContain(res.status);
    return (await res.json()) as { id: string };
  }

  describe('POST /v1/contracts', () => {
    it('refuses a contract over a limit with problem+json naming the field, and keeps nothing of it', async () => {
      // ~950 KB of excluded codes: a body under the 1 MiB body limit, a contract over the 256 KiB limit.
      const excludedCodes = Array.from({ length: 23_500 }, (_, i) => `${CPT}|C${String(i).padStart(6, '0')}`);
      const body = { ...contractBody('too-large'), parameters: { ...contractBody().parameters, excludedCodes } };
      expect(JSON.stringify(body).length).toBeLessThan(1024 * 1024);
      const res = await post('/v1/contracts', body);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const problem = (await res.json()) as { code: string; errors: { pointer: string; detail: string }[] };
      expect(problem.code).toBe('CONTRACT.INVALID');
      expect(problem.errors).toEqual([{ pointer: '', detail: expect.stringMatching(/at most 262144/) }]);
      const payoutDb = system.app('payout').get(DataSource);
      const [{ n }] = await payoutDb.query(`SELECT count(*)::int AS n FROM contracts WHERE name = 'too-large'`);
      expect(n).toBe(0);

      const nested = (depth: number): unknown =>
        depth === 1 ? covered.conditions.all[0] : { all: [nested(depth - 1)] };
      const deep = await post('/v1/contracts', {
        ...contractBody('too-deep'),
        rules: [covered, { ...covered, name: 'deep', conditions: nested(9) }],
      });
      expect(deep.status).toBe(400);
      expect(((await deep.json()) as { errors: { pointer: string }[] }).errors.map((e) => e.pointer)).toEqual([
        '/rules/1/conditions',
      ]);
    });

    it('publishes an immutable contract whose id is its content hash, once, with its event', async () => {
      const first = await post('/v1/contracts', contractBody('publish-once'));
      expect(first.status).toBe(201);
      const contract = (await first.json()) as { id: string; insurerId: string; publishedAt: string };
      expect(contract).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{64}$/), insurerId: tenant });
      expect(first.headers.get('location')).toBe(`/v1/contracts/${contract.id}`);

      const again = await post('/v1/contracts', contractBody('publish-once'));
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual(contract);

      expect(await (await get(`/v1/contracts/${contract.id}`)).json()).toEqual(contract);
      const list = (await (await get('/v1/contracts')).json()) as { items: { id: string }[] };
      expect(list.items.map((c) => c.id)).toContain(contract.id);

      const payoutDb = system.app('payout').get(DataSource);
      const [{ n }] = await payoutDb.query(
        `SELECT count(*)::int AS n FROM outbox WHERE topic = $1 AND message_key = $2`,
        [Topics.ContractsPublished, contract.id],
      );
      expect(n).toBe(1);
    });

    it('answers an invalid contract with problem+json naming each offending field', async () => {
      const body = contractBody();
      const res = await post('/v1/contracts', {
        ...body,
        parameters: { ...body.parameters, coinsurancePercent: 101, currency: undefined },
        rules: [{ ...covered, event: { type: 'deny-line', params: { reason: 'nope' } } }],
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const problem = (await res.json()) as { code: string; errors: { pointer: string }[] };
      expect(problem.code).toBe('CONTRACT.INVALID');
      expect(problem.errors.map((e) => e.pointer)).toEqual(
        expect.arrayContaining([
          '/parameters/coinsurancePercent',
          '/parameters/currency',
          '/rules/0/event/params/reason',
        ]),
      );
    });

    it('requires an Idempotency-Key and the insurer role', async () => {
      expect((await post('/v1/contracts', contractBody(), insurer, {})).status).toBe(400);
      expect((await post('/v1/contracts', contractBody(), provider)).status).toBe(403);
    });

    it("hides another insurer's contract (404) but shows everyone the demo contract", async () => {
      const { id } = await publish(contractBody('private'));
      expect((await get(`/v1/contracts/${id}`, otherInsurer)).status).toBe(404);
      const list = (await (await get('/v1/contracts', otherInsurer)).json()) as { items: unknown[] };
      expect(list.items).toEqual([]);
      const demo = 'dedd2b09f1d77335493571f7e29e76731a005f5941f2ae32dfd8c94a49c13004';
      expect(await (await get(`/v1/contracts/${demo}`, otherInsurer)).json()).toMatchObject({ insurerId: '*' });
    });
  });

  describe('contract lifecycle: POST /v2/contracts, /activation, /retirement (ADR 21)', () => {
    const today = new Date().toISOString().slice(0, 10);
    const dayAfter = (date: string, days = 1) =>
      new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
    type Contract = { id: string; state: string; effectiveFrom: string | null; retiredFrom: string | null };
    const payoutDb = () => system.app('payout').get(DataSource);
    /** The contract's contracts.states.v1 events, oldest first, and whether the ledger recorded each. */
    async function stateEvents(id: string): Promise<{ change: string; effectiveFrom: string | null }[]> {
      const rows: { payload: { data: { change: string; effectiveFrom: string | null } } }[] = await payoutDb().query(
        `SELECT payload FROM outbox WHERE topic = $1 AND message_key = $2 ORDER BY seq`,
        [Topics.ContractsStates, id],
      );
      return rows.map((r) => ({ change: r.payload.data.change, effectiveFrom: r.payload.data.effectiveFrom }));
    }

    it('publishes a draft, activates it from a date and retires it, each change an event the ledger records', async () => {
      const created = await post('/v2/contracts', contractBody('lifecycle'));
      expect(created.status).toBe(201);
      const draft = (await created.json()) as Contract;
      expect(draft).toMatchObject({ state: 'draft', effectiveFrom: null, retiredFrom: null });
      expect(created.headers.get('location')).toBe(`/v1/contracts/${draft.id}`);
      expect(await (await get(`/v1/contracts/${draft.id}`)).json()).toEqual(draft);
      // A draft is what simulation is for.
      const simulated = await post(
        `/v1/contracts/${draft.id}/simulate`,
        { claim: { providerId: 'clinic-1', currency: 'EUR', items: [claimItem(1, '99213', '100.00')] } },
        insurer,
        {},
      );
      expect(simulated.status).toBe(200);

      const activated = await post(`/v2/contracts/${draft.id}/activation`, { effectiveFrom: dayAfter(today) });
      expect(activated.status).toBe(200);
      expect(await activated.json()).toMatchObject({ state: 'scheduled', effectiveFrom: dayAfter(today) });
      // The same activation again changes nothing; another date is a conflict.
      expect((await post(`/v2/contracts/${draft.id}/activation`, { effectiveFrom: dayAfter(today) })).status).toBe(200);
      const moved = await post(`/v2/contracts/${draft.id}/activation`, { effectiveFrom: dayAfter(today, 2) });
      expect(moved.status).toBe(409);
      expect(((await moved.json()) as { code: string }).code).toBe('CONTRACT.ALREADY_ACTIVE');

      const early = await post(`/v2/contracts/${draft.id}/retirement`, { retiredFrom: today });
      expect(early.status).toBe(400);
      expect(((await early.json()) as { errors: { pointer: string }[] }).errors[0].pointer).toBe('/retiredFrom');
      const retired = await post(`/v2/contracts/${draft.id}/retirement`, { retiredFrom: dayAfter(today, 30) });
      expect(retired.status).toBe(200);
      expect(await retired.json()).toMatchObject({
        state: 'scheduled',
        effectiveFrom: dayAfter(today),
        retiredFrom: dayAfter(today, 30),
      });
      const again = await post(`/v2/contracts/${draft.id}/activation`, { effectiveFrom: dayAfter(today) });
      expect(again.status).toBe(409);
      expect(((await again.json()) as { code: string }).code).toBe('CONTRACT.RETIRED');

      expect(await stateEvents(draft.id)).toEqual([
        { change: 'drafted', effectiveFrom: null },
        { change: 'activated', effectiveFrom: dayAfter(today) },
        { change: 'retired', effectiveFrom: dayAfter(today) },
      ]);
      // Recorded on the ledger, as contracts.published.v1 is: which rules were in force when is part of its proof.
      const eventIds: string[] = (
        await payoutDb().query(`SELECT payload->>'id' AS id FROM outbox WHERE topic = $1 AND message_key = $2`, [
          Topics.ContractsStates,
          draft.id,
        ])
      ).map((r: { id: string }) => r.id);
      const ledgerDb = system.app('ledger-anchoring').get(DataSource);
      await waitFor('the ledger to record the three state changes', async () => {
        const rows: { event_type: string }[] = await ledgerDb.query(
          `SELECT event_type FROM ledger_leaves WHERE event_id = ANY($1::uuid[])`,
          [eventIds],
        );
        return rows.length === 3 && rows.every((r) => r.event_type === 'contract.state-changed');
      });
    });

    it('keeps v1 publishes active from 0001-01-01, with their activation event', async () => {
      const { id } = await publish(contractBody('v1-active'));
      expect(await (await get(`/v1/contracts/${id}`)).json()).toMatchObject({
        state: 'active',
        effectiveFrom: '0001-01-01',
        retiredFrom: null,
      });
      expect(await stateEvents(id)).toEqual([{ change: 'activated', effectiveFrom: '0001-01-01' }]);
    });

    it('answers invalid changes with problem+json naming the field, and another insurer with 404', async () => {
      const { id } = (await (await post('/v2/contracts', contractBody('lifecycle-invalid'))).json()) as Contract;
      const problem = async (res: Response) => {
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        return { status: res.status, ...((await res.json()) as { code: string; errors?: { pointer: string }[] }) };
      };
      const yesterday = dayAfter(today, -1);
      expect(await problem(await post(`/v2/contracts/${id}/activation`, { effectiveFrom: yesterday }))).toMatchObject({
        status: 400,
        code: 'CONTRACT.INVALID',
        errors: [{ pointer: '/effectiveFrom' }],
      });
      for (const body of [{ effectiveFrom: '2026-02-30' }, { effectiveFrom: 'tomorrow' }, {}, { retiredFrom: today }]) {
        const res = await problem(await post(`/v2/contracts/${id}/activation`, body));
        expect({ body, status: res.status, code: res.code }).toEqual({ body, status: 400, code: 'CONTRACT.INVALID' });
      }
      expect(
        await problem(await post(`/v2/contracts/${'0'.repeat(64)}/activation`, { effectiveFrom: today })),
      ).toMatchObject({ status: 404, code: 'CONTRACT.NOT_FOUND' });
      // Only the contract's own insurer changes it; the demo contract is no insurer's to change.
      const demo = 'dedd2b09f1d77335493571f7e29e76731a005f5941f2ae32dfd8c94a49c13004';
      for (const [path, auth] of [
        [`/v2/contracts/${id}/activation`, otherInsurer],
        [`/v2/contracts/${id}/retirement`, otherInsurer],
        [`/v2/contracts/${demo}/retirement`, insurer],
      ] as const) {
        const body = path.endsWith('activation') ? { effectiveFrom: today } : { retiredFrom: dayAfter(today) };
        expect(await problem(await post(path, body, auth))).toMatchObject({ status: 404, code: 'CONTRACT.NOT_FOUND' });
      }
      expect((await post(`/v2/contracts/${id}/activation`, { effectiveFrom: today }, provider)).status).toBe(403);
      expect((await post(`/v2/contracts/${id}/activation`, { effectiveFrom: today }, insurer, {})).status).toBe(400);
      expect(await (await get(`/v1/contracts/${id}`)).json()).toMatchObject({ state: 'draft' });
      expect(await stateEvents(id)).toEqual([{ change: 'drafted', effectiveFrom: null }]);
    });

    it('pends a claim on a policy whose contract is a draft (contract-not-active), and pays nothing', async () => {
      const { id: contractId } = (await (await post('/v2/contracts', contractBody('draft-claims'))).json()) as Contract;
      const coverageId = `draft-${uuidv4()}`;
      const enrolled = await post('/v1/policies', {
        coverageId,
        contractId,
        period: { start: '2026-01-01', end: '2026-12-31' },
      });
      expect(enrolled.status).toBe(201);
      const claimId = await claimOnCoverage(system, tenant, coverageId, 'pended');
      const [row] = await payoutDb().query(`SELECT contract_id, result FROM adjudications WHERE claim_id = $1`, [
        claimId,
      ]);
      expect(row.contract_id).toBe(contractId);
      expect(row.result.lines.map((l: { pendReasons: string[] }) => l.pendReasons)).toEqual([
        ['contract-not-active'],
        ['contract-not-active'],
      ]);
      const [{ n }] = await payoutDb().query(`SELECT count(*)::int AS n FROM payouts WHERE claim_id = $1`, [claimId]);
      expect(n).toBe(0);
    }, 120_000);
  });

  describe('POST /v1/contracts/:id/simulate', () => {
    it('adjudicates a hypothetical claim under a hypothetical policy, storing and sending nothing', async () => {
      const { id } = await publish(contractBody('simulate'));
      const payoutDb = system.app('payout').get(DataSource);
      // What a simulation by this contract could have stored or sent: decisions by it, events naming it (its own
      // contracts.published among them). Other specs' claims may still be decided meanwhile; they do not count.
      const counts = async () =>
        (
          await payoutDb.query(
            `SELECT (SELECT count(*) FROM adjudications WHERE contract_id = $1)
                  + (SELECT count(*) FROM outbox WHERE strpos(payload::text, $1) > 0) AS n`,
            [id],
          )
        )[0].n as string;
      const before = await counts();
      expect(Number(before)).toBeGreaterThan(0); // the contract's own contracts.published: the count sees events naming it
      const body = {
        claim: {
          providerId: 'clinic-1',
          currency: 'EUR',
          items: [claimItem(1, '99213', '120.00'), claimItem(2, '15780', '900.00')],
        },
        policy: {
          period: { start: '2026-01-01', end: '2026-12-31' },
          accumulators: { '2026-01-01': { deductibleMet: '30.00', benefitPaid: '0.00' } },
        },
      };
      const res = await post(`/v1/contracts/${id}/simulate`, body, insurer, {});
      expect(res.status).toBe(200);
      const result = (await res.json()) as { decision: string; payable: string; lines: { reasons: string[] }[] };
      // 120.00: 20.00 deductible left, 10% of 100.00, benefit 90.00; 15780 is excluded.
      expect(result).toMatchObject({ decision: 'partial', payable: '90.00' });
      expect(result.lines.map((l) => l.reasons)).toEqual([['PR-1', 'PR-2'], ['CO-204']]);
      const again = await post(`/v1/contracts/${id}/simulate`, body, insurer, {});
      expect(await again.text()).toBe(JSON.stringify(result));
      expect(await counts()).toBe(before);
      expect((await post(`/v1/contracts/${id}/simulate`, body, otherInsurer, {})).status).toBe(404);
    });

    it('refuses a claim with more lines than a contract decides at once, naming the field', async () => {
      const { id } = await publish(contractBody('simulate-lines'));
      const items = Array.from({ length: 201 }, (_, i) => claimItem(i + 1, '99213', '1.00'));
      const res = await post(
        `/v1/contracts/${id}/simulate`,
        { claim: { providerId: 'clinic-1', currency: 'EUR', items } },
        insurer,
        {},
      );
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(((await res.json()) as { errors: { pointer: string }[] }).errors.map((e) => e.pointer)).toEqual([
        '/claim/items',
      ]);
    });
  });

  it('shows ops the ledger circuit breaker, closed while the ledger checks out', async () => {
    const ops = await system.as('ops', 'ops');
    const res = await get('/v1/ops/ledger-circuit', ops);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ state: 'closed' });
    expect((await get('/v1/ops/ledger-circuit')).status).toBe(403);
  });

  it('documents the contracts and policies API in OpenAPI', async () => {
    const doc = (await (await fetch(url('/docs-json'))).json()) as {
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: { required?: string[] } }> } }>
      >;
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/contracts',
        '/v1/contracts/{id}',
        '/v2/contracts',
        '/v2/contracts/{id}/activation',
        '/v2/contracts/{id}/retirement',
        '/v1/policies',
        '/v1/policies/{id}',
      ]),
    );
    const contract = doc.paths['/v1/contracts'].post.requestBody!.content['application/json'].schema;
    expect(contract.required).toEqual(['name', 'version', 'parameters', 'rules']);
  });

  describe('POST /v1/policies', () => {
    it('enrols a coverage on a contract, refuses an overlapping period, and hides it from other insurers', async () => {
      const { id: contractId } = await publish(contractBody('policies'));
      const coverageId = `cov-${uuidv4()}`;
      const period = { start: '2026-01-01', end: '2026-12-31' };
      const created = await post('/v1/policies', { coverageId, contractId, period });
      expect(created.status).toBe(201);
      const policy = (await created.json()) as { id: string };
      expect(policy).toMatchObject({ coverageId, contractId, period, memberPseudonym: null, accumulators: [] });

      const overlap = await post('/v1/policies', {
        coverageId,
        contractId,
        period: { start: '2026-12-01', end: '2027-11-30' },
      });
      expect(overlap.status).toBe(409);
      expect(((await overlap.json()) as { code: string }).code).toBe('POLICY.OVERLAP');
      const next = await post('/v1/policies', {
        coverageId,
        contractId,
        period: { start: '2027-01-01', end: '2027-12-31' },
      });
      expect(next.status).toBe(201);

      expect((await get(`/v1/policies/${policy.id}`)).status).toBe(200);
      expect((await get(`/v1/policies/${policy.id}`, otherInsurer)).status).toBe(404);
    });

    it("refuses another insurer's contract (422) and an invalid body (400)", async () => {
      const { id: contractId } = await publish(contractBody('not-yours'));
      const res = await post(
        '/v1/policies',
        { coverageId: 'c-1', contractId, period: { start: '2026-01-01', end: '2026-12-31' } },
        otherInsurer,
      );
      expect(res.status).toBe(422);
      expect(((await res.json()) as { errors: { pointer: string }[] }).errors[0].pointer).toBe('/contractId');
      const bad = await post('/v1/policies', {
        coverageId: 'c 1',
        contractId: 'x',
        period: { start: '2026-02-01', end: '2026-01-01' },
      });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { errors: { pointer: string }[] }).errors.map((e) => e.pointer)).toEqual(
        expect.arrayContaining(['/coverageId', '/contractId', '/period/end']),
      );
    });
  });

  it("pays a verified claim by its policy's contract and updates the plan-year accumulators", async () => {
    const { id: contractId } = await publish(contractBody('end-to-end'));
    // fhirClaim names Coverage/policy-e2e; the tenant is unique to this run, so the coverage is too.
    const enrolled = await post('/v1/policies', {
      coverageId: 'policy-e2e',
      contractId,
      period: { start: '2026-01-01', end: '2026-12-31' },
    });
    expect(enrolled.status).toBe(201);
    const policy = (await enrolled.json()) as { id: string };

    const submitted = await fetch(system.url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', ...insurer, ...newKey() },
      // An institutional claim: its remittance says so (it used to say professional whatever the claim was).
      body: JSON.stringify({
        ...fhirClaim(`p-${uuidv4()}`, tenant),
        type: { coding: [{ system: CLAIM_TYPE, code: 'institutional' }] },
      }),
    });
    expect(submitted.status).toBe(202);
    const { id: claimId } = (await submitted.json()) as { id: string };
    const confirmed = await fetch(system.url('treatment-verification', '/v1/confirmations'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...provider, ...newKey() },
      body: JSON.stringify({
        claimId,
        performed: fhirClaimTreatments(),
      }),
    });
    expect([201, 202]).toContain(confirmed.status);

    const claim = await waitFor(
      'the claim to be paid',
      async () => {
        const body = (await (
          await fetch(system.url('claim-intake', `/v1/claims/${claimId}`), { headers: insurer })
        ).json()) as { status: string; paid: string | null };
        return body.status === 'paid' ? body : undefined;
      },
      { timeoutMs: 60_000 },
    );
    // 120.00: 50.00 deductible, 10% of 70.00 = 7.00, benefit 63.00; 30.50: 3.05 coinsurance, benefit 27.45.
    expect(claim.paid).toBe('90.45');
    const after = (await (await get(`/v1/policies/${policy.id}`)).json()) as { accumulators: unknown[] };
    expect(after.accumulators).toEqual([
      {
        planYearStart: '2026-01-01',
        deductibleMet: '50.00',
        deductibleRemaining: '0.00',
        benefitPaid: '90.45',
        benefitRemaining: '909.55',
      },
    ]);
    const payoutDb = system.app('payout').get(DataSource);
    const [row] = await payoutDb.query(
      `SELECT contract_id, policy_id, decision FROM adjudications WHERE claim_id = $1`,
      [claimId],
    );
    expect(row).toEqual({ contract_id: contractId, policy_id: policy.id, decision: 'approved' });
    // The remittance is a FHIR R4 ClaimResponse with the line-level categories and the payment.
    const remittance = await get(`/v1/remittances/${claimId}`);
    expect(remittance.headers.get('content-type')).toContain('application/fhir+json');
    expect(await remittance.json()).toMatchObject({
      resourceType: 'ClaimResponse',
      type: { coding: [{ system: CLAIM_TYPE, code: 'institutional' }] },
      outcome: 'complete',
      request: { reference: `Claim/${claimId}` },
      payment: { amount: { value: 90.45, currency: 'EUR' } },
    });
    expect((await get(`/v1/remittances/${claimId}`, otherInsurer)).status).toBe(404);
    // The simulated bank settles the payout, and payout announces it.
    await waitFor('the payout to settle', async () => {
      const [p] = await payoutDb.query(`SELECT status FROM payouts WHERE claim_id = $1`, [claimId]);
      return p?.status === 'settled';
    });
    const [{ n }] = await payoutDb.query(
      `SELECT count(*)::int AS n FROM outbox WHERE topic = $1 AND message_key = $2`,
      [Topics.PayoutsSettled, claimId],
    );
    expect(n).toBe(1);
  }, 120_000);
});
