import { performance } from 'node:perf_hooks';
import { claimItem } from '@claimchain/testing';
import {
  adjudicate,
  ClaimToAdjudicate,
  PEND_CONTRACT_TIMEOUT,
  POLICYLESS_ADJUDICATION_ALGORITHM,
  ADJUDICATION_ALGORITHM,
  PolicyContext,
} from '../engine/adjudicate';
import { ContractDefinition, contractIdOf, DEMO_CONTRACT } from '../engine/contract.definition';
import { AdjudicationPool, PoolJob } from './adjudication.pool';

const claim = (lines: number, net = '100.00'): ClaimToAdjudicate => ({
  providerId: 'clinic-1',
  currency: 'EUR',
  patientPseudonym: 'a'.repeat(64),
  items: Array.from({ length: lines }, (_, i) => claimItem(i + 1, '99213', net)),
});

/**
 * A contract as slow as the one the security review found (published before the limits existed, or slow within
 * them on a big claim): every line checks 40 rules of a 20,000-value `in` list, tens of milliseconds per line.
 */
const SLOW: ContractDefinition = {
  insurerId: 'slow-insurer',
  name: 'slow',
  version: '1',
  parameters: { coinsurancePercent: 20, excludedCodes: [] },
  rules: Array.from({ length: 40 }, (_, r) => ({
    name: `slow-${r}`,
    conditions: {
      all: [
        {
          fact: 'code' as const,
          operator: 'notIn' as const,
          value: Array.from({ length: 20_000 }, (_, i) => `X${r}-${i}`),
        },
      ],
    },
    event: { type: 'pay-line' as const },
  })),
};

const GOLD: ContractDefinition = {
  insurerId: 'gold-insurer',
  name: 'gold',
  version: '1',
  parameters: {
    currency: 'EUR',
    coinsurancePercent: 10,
    deductible: '50.00',
    annualLimit: '150.00',
    excludedCodes: [],
  },
  rules: [
    {
      name: 'covered',
      conditions: { all: [{ fact: 'quantity', operator: 'greaterThan', value: 0 }] },
      event: { type: 'pay-line' },
    },
  ],
};

const coverage: PolicyContext = {
  policy: { id: 'p-1', contractId: contractIdOf(GOLD), memberPseudonym: null, start: '2026-01-01', end: '2026-12-31' },
  accumulators: {},
};

const job = (contract: ContractDefinition, c: ClaimToAdjudicate, extra: Partial<PoolJob> = {}): PoolJob => ({
  contractId: contractIdOf(contract),
  contract,
  claim: c,
  coverage: null,
  review: null,
  algorithm: POLICYLESS_ADJUDICATION_ALGORITHM,
  ...extra,
});

describe(AdjudicationPool.name, () => {
  let pool: AdjudicationPool;

  afterEach(async () => {
    await pool?.close();
  });

  it('gives exactly the results of adjudicate, with claims on one policy chained in order', async () => {
    pool = new AdjudicationPool({ workers: 2, timeoutMs: 5000 });
    const onPolicy = { coverage, algorithm: ADJUDICATION_ALGORITHM, chain: coverage.policy.id } as const;
    const jobs = [
      job(GOLD, claim(1), onPolicy),
      job(DEMO_CONTRACT, claim(2)),
      job(GOLD, claim(2), onPolicy),
      job(GOLD, claim(1), onPolicy),
    ];
    const outcomes = await pool.adjudicateMany(jobs);

    // The same claims decided one after another on this thread, each policy claim from the last one's accumulators.
    let accumulators = coverage.accumulators;
    const expected = [];
    for (const j of jobs) {
      const cov = j.coverage ? { ...j.coverage, accumulators } : null;
      const result = await adjudicate(j.contract, j.claim, cov, null, j.algorithm);
      if (cov) accumulators = { ...accumulators, ...result.accumulators.after };
      expected.push({ result });
    }
    expect(outcomes).toEqual(expected);
    // The chain mattered: the annual limit (150.00) ran out on the third policy claim.
    expect(outcomes.map((o) => ('result' in o ? o.result.payable : o))).toEqual(['45.00', '160.00', '105.00', '0.00']);
  });

  it("pends only the slow contract's claim, while another insurer's claim in the batch is decided", async () => {
    pool = new AdjudicationPool({ workers: 1, timeoutMs: 100 });
    const fast = job(DEMO_CONTRACT, claim(2));
    // The main thread's event loop keeps turning while the slow contract runs: the longest gap between two ticks
    // of a 10 ms timer stays far below what the slow claim costs on one thread (over a second per ten lines).
    const jobs = [job(SLOW, claim(200)), fast, job(SLOW, claim(1))];
    let last = performance.now();
    let longestGap = 0;
    const timer = setInterval(() => {
      longestGap = Math.max(longestGap, performance.now() - last);
      last = performance.now();
    }, 10);
    const outcomes = await pool.adjudicateMany(jobs);
    clearInterval(timer);

    expect(outcomes[0]).toEqual({ unrun: PEND_CONTRACT_TIMEOUT });
    expect(outcomes[1]).toEqual({ result: await adjudicate(DEMO_CONTRACT, fast.claim, null, null, fast.algorithm) });
    // A contract that timed out is not run again for the batch's later claims.
    expect(outcomes[2]).toEqual({ unrun: PEND_CONTRACT_TIMEOUT });
    expect(longestGap).toBeLessThan(1000);
  });

  it('refuses to decide by a contract whose definition does not hash to its id', async () => {
    pool = new AdjudicationPool({ workers: 1, timeoutMs: 5000 });
    const tampered = {
      ...job(GOLD, claim(1)),
      contract: { ...GOLD, parameters: { ...GOLD.parameters, coinsurancePercent: 0 } },
    };
    expect(await pool.adjudicate(tampered)).toEqual({ refused: expect.stringMatching(/does not hash to its id/) });
  });

  it('replaces the worker after a timeout and keeps deciding', async () => {
    pool = new AdjudicationPool({ workers: 1, timeoutMs: 100 });
    expect(await pool.adjudicate(job(SLOW, claim(200)))).toEqual({ unrun: PEND_CONTRACT_TIMEOUT });
    const next = await pool.adjudicate(job(DEMO_CONTRACT, claim(1)));
    expect(next).toMatchObject({ result: { decision: 'approved', payable: '80.00' } });
  });
});
