import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { waitFor } from '@claimchain/testing';
import { ContractRepository } from '../../apps/payout/src/contracts/contract.repository';
import { ContractDefinition, contractIdOf, RuleCondition } from '../../apps/payout/src/engine/contract.definition';
import { fhirClaim, fhirClaimTreatments, newKey, RunningSystem, startSystem } from './system';

/** A condition tree `depth` levels deep, every node an `all` of two: 2^depth fact conditions, all of them true. */
const tree = (depth: number): { all: RuleCondition[] } => ({
  all:
    depth === 1
      ? [
          { fact: 'quantity', operator: 'greaterThan', value: 0 },
          { fact: 'quantity', operator: 'greaterThan', value: 0 },
        ]
      : [tree(depth - 1), tree(depth - 1)],
});

/**
 * The security review's kind of contract (issue 14, finding 9): deeply nested and about half a megabyte, over a
 * second of rules-engine work per claim line. The limits refuse it at publish, so it is stored as one published
 * before them would be.
 */
const pathological = (insurerId: string): ContractDefinition => ({
  insurerId,
  name: 'pathological',
  version: '1',
  parameters: { coinsurancePercent: 20, excludedCodes: [] },
  rules: Array.from({ length: 4 }, (_, r) => ({
    name: `deep-${r}`,
    conditions: tree(11),
    event: { type: 'pay-line' },
  })),
});

describe('payout with a pathological contract', () => {
  let system: RunningSystem;
  const slowTenant = `slow-${uuidv4()}`;
  const otherTenant = `other-${uuidv4()}`;

  beforeAll(async () => {
    // A short per-claim timeout: a normal contract decides a claim in well under a millisecond.
    system = await startSystem({ env: { PAYOUT_ADJUDICATION_TIMEOUT_MS: '300' } });
    const definition = pathological(slowTenant);
    await system
      .app('payout')
      .get(DataSource)
      .transaction((em) => new ContractRepository().insertContract(em, { id: contractIdOf(definition), definition }));
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
  });

  async function submitAndConfirm(tenant: string): Promise<string> {
    const insurer = await system.as('insurer', tenant);
    const submitted = await fetch(system.url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', ...insurer, ...newKey() },
      body: JSON.stringify(fhirClaim(`p-${uuidv4()}`, tenant)),
    });
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.json()) as { id: string };
    const confirmed = await fetch(system.url('treatment-verification', '/v1/confirmations'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await system.as('provider', 'clinic-e2e')), ...newKey() },
      body: JSON.stringify({ claimId: id, performed: fhirClaimTreatments() }),
    });
    expect([201, 202]).toContain(confirmed.status);
    return id;
  }

  it("pends only its own claim for review, pays another insurer's, and payout's HTTP answers throughout", async () => {
    const payoutDb = system.app('payout').get(DataSource);
    const decisionOf = async (claimId: string) =>
      (
        (await payoutDb.query(`SELECT decision, result FROM adjudications WHERE claim_id = $1`, [claimId])) as {
          decision: string;
          result: { lines: { pendReasons: string[] }[] };
        }[]
      )[0];

    // Both claims confirmed together, so their anchors (and adjudication) arrive together.
    const [slowClaim, otherClaim] = await Promise.all([submitAndConfirm(slowTenant), submitAndConfirm(otherTenant)]);

    // payout's health endpoint is asked every 20 ms until both claims are decided: its slowest answer is recorded.
    let slowestHealthMs = 0;
    let healthChecks = 0;
    let decided = false;
    const probing = (async () => {
      while (!decided) {
        const started = performance.now();
        const res = await fetch(system.url('payout', '/health/live'));
        expect(res.status).toBe(200);
        slowestHealthMs = Math.max(slowestHealthMs, performance.now() - started);
        healthChecks += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const [slow, other] = await waitFor(
      'both claims to be decided',
      async () => {
        const both = [await decisionOf(slowClaim), await decisionOf(otherClaim)];
        return both.every(Boolean) ? both : undefined;
      },
      { timeoutMs: 60_000 },
    );
    decided = true;
    await probing;

    expect(slow.decision).toBe('pended');
    expect(slow.result.lines.map((l) => l.pendReasons)).toEqual([['contract-timeout'], ['contract-timeout']]);
    // The demo contract pays the other insurer's 150.50 at 80 %.
    expect(other.decision).toBe('approved');
    await waitFor('the other claim to be paid', async () => {
      const res = await fetch(system.url('claim-intake', `/v1/claims/${otherClaim}`), {
        headers: await system.as('insurer', otherTenant),
      });
      const body = (await res.json()) as { status: string; paid: string | null };
      return body.status === 'paid' && body.paid === '120.40';
    });
    // The pended claim is in its insurer's review queue with the reason.
    const queue = (await (
      await fetch(system.url('payout', '/v1/reviews'), { headers: await system.as('insurer', slowTenant) })
    ).json()) as { items: { claimId: string }[] };
    expect(queue.items.map((i) => i.claimId)).toContain(slowClaim);
    // Run on payout's own thread, the contract blocks it for over a second per claim line.
    expect(healthChecks).toBeGreaterThan(0);
    expect(slowestHealthMs).toBeLessThan(1000);
  });
});
