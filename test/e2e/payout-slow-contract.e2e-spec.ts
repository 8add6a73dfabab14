import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { waitFor } from '@claimchain/testing';
import { ContractRepository } from '../../apps/payout/src/contracts/contract.repository';
import { ContractDefinition, contractIdOf, RuleCondition } from '../../apps/payout/src/engine/contract.definition';
import { adjudicate, ClaimToAdjudicate } from '../../apps/payout/src/engine/adjudicate';
import { CPT, fhirClaim, fhirClaimTreatments, newKey, RunningSystem, startSystem } from './system';

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
 * The security review's kind of contract (issue 14, finding 9): deeply nested, half a megabyte at depth 11 and twice
 * as big and as slow per level deeper. The limits refuse it at publish, so it is stored as one published before them
 * would be.
 */
const pathological = (insurerId: string, depth: number): ContractDefinition => ({
  insurerId,
  name: 'pathological',
  version: '1',
  parameters: { coinsurancePercent: 20, excludedCodes: [] },
  rules: Array.from({ length: 4 }, (_, r) => ({
    name: `deep-${r}`,
    conditions: tree(depth),
    event: { type: 'pay-line' },
  })),
});

/** The fixture claim's lines as payout adjudicates them. */
const fixtureClaim: ClaimToAdjudicate = {
  providerId: 'clinic-e2e',
  currency: 'EUR',
  patientPseudonym: null,
  items: fhirClaim('p').item.map((item) => ({
    sequence: item.sequence,
    system: CPT,
    code: item.productOrService.coding[0].code,
    servicedDate: item.servicedDate,
    quantity: item.quantity.value,
    unitPrice: item.unitPrice.value.toFixed(2),
    net: item.net.value.toFixed(2),
  })),
};

/** How long deciding the fixture claim by `definition` holds the thread that runs it. */
async function blockingMs(definition: ContractDefinition): Promise<number> {
  const started = performance.now();
  await adjudicate(definition, fixtureClaim, null);
  return performance.now() - started;
}

/** A thread running the contract must be held at least this long, so that a stall of half of it cannot be noise. */
const MIN_BLOCKING_MS = 4000;

describe('payout with a pathological contract', () => {
  let system: RunningSystem;
  let blocking = 0;
  const slowTenant = `slow-${uuidv4()}`;
  const otherTenant = `other-${uuidv4()}`;

  beforeAll(async () => {
    // How long the contract would hold payout's own thread is measured on this machine, not assumed: the tree
    // deepens until deciding the fixture claim by it holds a thread for MIN_BLOCKING_MS (before the system starts,
    // so the measurement holds up nothing else).
    let depth = 11;
    blocking = await blockingMs(pathological(slowTenant, depth));
    while (blocking < MIN_BLOCKING_MS && depth < 15) blocking = await blockingMs(pathological(slowTenant, ++depth));
    const definition = pathological(slowTenant, depth);
    // A short per-claim timeout: a normal contract decides a claim in well under a millisecond.
    system = await startSystem({ env: { PAYOUT_ADJUDICATION_TIMEOUT_MS: '300' } });
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
    // Run on payout's own thread, the contract would have held its HTTP for `blocking` ms, at least 4 s (a mutant
    // running it there stalled HTTP 4.0 s against a bound of 2.2 s). CI's full run has seen a 1.05 s stall with the
    // contract on its worker (this process holds every service and the suite's whole heap), so the bound is half of
    // that hold, not a fixed second.
    expect(blocking).toBeGreaterThanOrEqual(MIN_BLOCKING_MS);
    expect(healthChecks).toBeGreaterThan(0);
    expect(slowestHealthMs).toBeLessThan(blocking / 2);
  });
});
