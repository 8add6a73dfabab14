import { v4 as uuidv4 } from 'uuid';
import { waitFor } from '@claimchain/testing';
import { claimOnCoverage, newKey, RunningSystem, startSystem } from './system';

/**
 * Payout as production runs it (issue 14 items 4 and 7): no demo contract and no simulated bank. A claim on a
 * coverage with no policy is denied with a reason, never paid; a claim paid under its policy, for an insurer with no
 * webhook, waits for a rail (visible to ops) and is never settled by anything that did not move money.
 */
describe('payout without the development settings, end to end', () => {
  let system: RunningSystem;
  const tenant = `insurer-prod-${uuidv4().slice(0, 8)}`;
  let insurer: { authorization: string };
  let ops: { authorization: string };
  let contractId: string;

  beforeAll(async () => {
    system = await startSystem({ env: { PAYOUT_DEMO_CONTRACT: 'false', PAYOUT_SIMULATED_BANK: 'false' } });
    insurer = await system.as('insurer', tenant);
    ops = await system.as('ops', 'ops-team');
    const contract = await fetch(system.url('payout', '/v1/contracts'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...insurer, ...newKey() },
      body: JSON.stringify({
        name: 'production',
        version: '1',
        parameters: { currency: 'EUR', coinsurancePercent: 20, excludedCodes: [] },
        rules: [
          {
            name: 'covered',
            conditions: { all: [{ fact: 'quantity', operator: 'greaterThan', value: 0 }] },
            event: { type: 'pay-line' },
          },
        ],
      }),
    });
    expect(contract.status).toBe(201);
    ({ id: contractId } = (await contract.json()) as { id: string });
    const enrolled = await fetch(system.url('payout', '/v1/policies'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...insurer, ...newKey() },
      body: JSON.stringify({
        coverageId: 'policy-e2e',
        contractId,
        period: { start: '2026-01-01', end: '2026-12-31' },
      }),
    });
    expect(enrolled.status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
  });

  const decidedClaim = (coverage: string, until: string) => claimOnCoverage(system, tenant, coverage, until);

  it('denies a claim on a coverage with no policy, with CO-31 on each line of its ClaimResponse', async () => {
    const id = await decidedClaim('not-enrolled', 'denied');
    const res = await fetch(system.url('payout', `/v1/remittances/${id}`), { headers: insurer });
    const remittance = (await res.json()) as {
      outcome: string;
      item: { adjudication: { reason?: { coding: { code: string }[] } }[] }[];
      payment?: unknown;
    };
    expect(remittance.payment).toBeUndefined();
    for (const item of remittance.item) {
      expect(item.adjudication.flatMap((a) => a.reason?.coding.map((c) => c.code) ?? [])).toEqual(['31']);
    }
  });

  it('releases a payout under the policy and, with no webhook and no bank, leaves it awaiting a rail', async () => {
    // Released, not settled: claim-intake says payment-pending, never paid, while the money has not moved (issue 14).
    const id = await decidedClaim('policy-e2e', 'payment-pending');
    const payout = await waitFor(`the payout of ${id} to await a rail`, async () => {
      const res = await fetch(system.url('payout', '/v1/ops/payouts?status=awaiting-rail&limit=200'), {
        headers: ops,
      });
      const { items } = (await res.json()) as { items: { claimId: string; status: string; lastError: string }[] };
      return items.find((p) => p.claimId === id);
    });
    expect(payout).toMatchObject({
      status: 'awaiting-rail',
      rail: null,
      attempts: 0,
      lastError: expect.stringMatching(/no payment rail/),
    });
    const settled = await fetch(system.url('payout', '/v1/ops/payouts?status=settled&limit=200'), { headers: ops });
    const { items } = (await settled.json()) as { items: { claimId: string }[] };
    expect(items.map((p) => p.claimId)).not.toContain(id);
    const shown = await fetch(system.url('claim-intake', `/v1/claims/${id}`), { headers: insurer });
    expect(((await shown.json()) as { status: string }).status).toBe('payment-pending');
  });

  it('backtests the contract over the claims the insurer had decided, and names a bad limit', async () => {
    const backtest = (body: unknown) =>
      fetch(system.url('payout', `/v1/contracts/${contractId}/backtest`), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...insurer },
        body: JSON.stringify(body),
      });
    const res = await backtest({ limit: 10 });
    expect(res.status).toBe(200);
    const result = (await res.json()) as {
      claims: { decided: { decision: string }; backtest: { decision: string } }[];
      totals: { claims: number; changed: number };
    };
    // The two claims the tests above had decided, each the same again under the contract that decided them.
    expect(result.totals).toMatchObject({ claims: 2, changed: 0 });
    expect(result.claims.map((c) => c.backtest.decision).sort()).toEqual(['approved', 'denied']);
    const refused = await backtest({ limit: 0 });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { errors: { pointer: string }[] }).errors.map((e) => e.pointer)).toEqual([
      '/limit',
    ]);
  });
});
