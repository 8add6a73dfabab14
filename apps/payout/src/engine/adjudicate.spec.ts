import { ContractDefinition, DEMO_CONTRACT } from './contract.definition';
import { PolicyTerms } from './plan-year';
import {
  adjudicate as adjudicateBy,
  POLICYLESS_ADJUDICATION_ALGORITHM,
  ClaimLine,
  ClaimToAdjudicate,
  deniedUnrun,
  PEND_ATTESTATION_MISSING,
  PEND_CONTRACT_NOT_ACTIVE,
  PEND_CONTRACT_TIMEOUT,
  PEND_NO_POLICY,
  pendedUnrun,
  unrunReasonOf,
  PolicyContext,
  ADJUDICATION_ALGORITHM,
} from './adjudicate';

/** These specs are about the contract's mechanics, on claims without a policy: the contract alone decides (v2). */
const adjudicate = (...[contract, claim, coverage, review = null]: Parameters<typeof adjudicateBy>) =>
  adjudicateBy(contract, claim, coverage, review, POLICYLESS_ADJUDICATION_ALGORITHM);

const CPT = 'http://www.ama-assn.org/go/cpt';
const MEMBER = 'a'.repeat(64);

const item = (sequence: number, code: string, net: string, servicedDate = '2026-11-20'): ClaimLine => ({
  sequence,
  system: CPT,
  code,
  servicedDate,
  quantity: 1,
  unitPrice: net,
  net,
});

const claim = (items: ClaimLine[], providerId = 'clinic-1'): ClaimToAdjudicate => ({
  providerId,
  currency: 'EUR',
  patientPseudonym: MEMBER,
  items,
});

const POLICY: PolicyTerms = {
  id: '018f0000-0000-7000-8000-000000000001',
  contractId: 'c'.repeat(64),
  memberPseudonym: MEMBER,
  start: '2026-01-01',
  end: '2026-12-31',
};

const onPolicy = (accumulators: PolicyContext['accumulators'] = {}, policy = POLICY): PolicyContext => ({
  policy,
  accumulators,
});

/** A contract that pays every covered line, with the given parameters on top of 20% coinsurance. */
function contract(parameters: Partial<ContractDefinition['parameters']> = {}, rules = PAY_ALL): ContractDefinition {
  return {
    insurerId: 'insurer-1',
    name: 'golden',
    version: '1',
    parameters: { currency: 'EUR', coinsurancePercent: 20, excludedCodes: [`${CPT}|15780`], ...parameters },
    rules,
  };
}

const PAY_ALL: ContractDefinition['rules'] = [
  {
    name: 'covered',
    conditions: { all: [{ fact: 'quantity', operator: 'greaterThan', value: 0 }] },
    event: { type: 'pay-line' },
  },
];

const amounts = (l: { eligible: string; deductible: string; coinsurance: string; benefit: string }) => [
  l.eligible,
  l.deductible,
  l.coinsurance,
  l.benefit,
];

describe(adjudicate.name, () => {
  describe('with the demo contract (no policy)', () => {
    it('approves covered lines, paying the net less 20% coinsurance', async () => {
      const result = await adjudicate(
        DEMO_CONTRACT,
        claim([item(1, '99213', '120.00'), item(2, '85025', '30.50')]),
        null,
      );
      expect(result.decision).toBe('approved');
      expect(result.payable).toBe('120.40');
      expect(result.submitted).toBe('150.50');
      expect(result.lines.map((l) => [l.benefit, l.reasons])).toEqual([
        ['96.00', ['PR-2']],
        ['24.40', ['PR-2']],
      ]);
    });

    it('denies an excluded code with CO-204 and makes the claim partial', async () => {
      const result = await adjudicate(
        DEMO_CONTRACT,
        claim([item(1, '99213', '100.00'), item(2, '15780', '900.00')]),
        null,
      );
      expect(result.decision).toBe('partial');
      expect(result.lines[1]).toMatchObject({
        status: 'denied',
        eligible: '0.00',
        benefit: '0.00',
        reasons: ['CO-204'],
      });
      expect(result.lines[1].adjustments).toEqual([{ reason: 'CO-204', amount: '900.00' }]);
      expect(result.payable).toBe('80.00');
    });

    it('denies a claim none of whose lines are payable', async () => {
      const result = await adjudicate(DEMO_CONTRACT, claim([item(1, '15780', '900.00')]), null);
      expect(result.decision).toBe('denied');
      expect(result.payable).toBe('0.00');
    });

    it('denies as not covered (CO-96) a line no rule pays', async () => {
      const noPayRule = { ...DEMO_CONTRACT, rules: DEMO_CONTRACT.rules.filter((r) => r.name === 'excluded-service') };
      const result = await adjudicate(noPayRule, claim([item(1, '99213', '50.00')]), null);
      expect(result.lines[0].reasons).toEqual(['CO-96']);
      expect(result.decision).toBe('denied');
    });

    it('records which rules fired for each line', async () => {
      const result = await adjudicate(DEMO_CONTRACT, claim([item(1, '99213', '10.00')]), null);
      expect(result.lines[0].rules).toEqual([
        { name: 'covered-service', priority: 1, event: { type: 'pay-line', params: { coinsurancePercent: 20 } } },
      ]);
    });
  });

  describe('golden contract cases', () => {
    it('crosses the deductible within one claim: the first line meets it, the second pays', async () => {
      const result = await adjudicate(
        contract({ deductible: '150.00' }),
        claim([item(1, '99213', '100.00'), item(2, '85025', '100.00')]),
        onPolicy({ '2026-01-01': { deductibleMet: '20.00', benefitPaid: '0.00' } }),
      );
      // Line 1: 100 all to deductible (130 left). Line 2: 30 deductible, 20% of 70 = 14, benefit 56.
      expect(result.lines.map(amounts)).toEqual([
        ['100.00', '100.00', '0.00', '0.00'],
        ['100.00', '30.00', '14.00', '56.00'],
      ]);
      expect(result.lines.map((l) => l.reasons)).toEqual([['PR-1'], ['PR-1', 'PR-2']]);
      expect(result.decision).toBe('approved');
      expect(result.payable).toBe('56.00');
      expect(result.accumulators.after).toEqual({ '2026-01-01': { deductibleMet: '150.00', benefitPaid: '56.00' } });
    });

    it('reaches the annual limit mid-claim: the line that crosses it is cut (CO-119), the next pays nothing', async () => {
      const result = await adjudicate(
        contract({ annualLimit: '1000.00', coinsurancePercent: 0 }),
        claim([item(1, 'A1', '30.00'), item(2, 'A2', '50.00'), item(3, 'A3', '40.00')]),
        onPolicy({ '2026-01-01': { deductibleMet: '0.00', benefitPaid: '950.00' } }),
      );
      expect(result.lines.map((l) => [l.status, l.benefit, l.adjustments])).toEqual([
        ['approved', '30.00', []],
        ['partial', '20.00', [{ reason: 'CO-119', amount: '30.00' }]],
        ['denied', '0.00', [{ reason: 'CO-119', amount: '40.00' }]],
      ]);
      expect(result.decision).toBe('partial');
      expect(result.payable).toBe('50.00');
      expect(result.accumulators.after['2026-01-01'].benefitPaid).toBe('1000.00');
    });

    it('denies an excluded code (CO-204) even when a rule would pay it', async () => {
      const result = await adjudicate(contract(), claim([item(1, '15780', '500.00')]), onPolicy());
      expect(result.lines[0]).toMatchObject({ status: 'denied', reasons: ['CO-204'], benefit: '0.00' });
      expect(result.decision).toBe('denied');
      expect(result.accumulators.after).toEqual({});
    });

    it('rounds coinsurance half-even to the cent per line, the benefit taking the remainder', async () => {
      // 20% of 10.01 = 2.002 → 2.00; of 0.05 = 0.01; of 0.55 = 0.11; 12.5% of 0.20 = 0.025 → 0.02; of 0.60 = 0.075 → 0.08.
      const twenty = await adjudicate(
        contract(),
        claim([item(1, 'A', '10.01'), item(2, 'B', '0.05'), item(3, 'C', '0.55')]),
        null,
      );
      expect(twenty.lines.map((l) => [l.coinsurance, l.benefit])).toEqual([
        ['2.00', '8.01'],
        ['0.01', '0.04'],
        ['0.11', '0.44'],
      ]);
      expect(twenty.payable).toBe('8.49');
      const eighth = await adjudicate(
        contract({ coinsurancePercent: 12.5 }),
        claim([item(1, 'A', '0.20'), item(2, 'B', '0.60')]),
        null,
      );
      expect(eighth.lines.map((l) => [l.coinsurance, l.benefit])).toEqual([
        ['0.02', '0.18'],
        ['0.08', '0.52'],
      ]);
    });

    it('pays out-of-network lines at the out-of-network coinsurance', async () => {
      const network = {
        providers: ['clinic-in'],
        outOfNetwork: { action: 'coinsurance' as const, coinsurancePercent: 50 },
      };
      const outside = await adjudicate(contract({ network }), claim([item(1, 'A', '100.00')], 'clinic-out'), null);
      expect(outside.lines[0]).toMatchObject({ inNetwork: false, coinsurance: '50.00', benefit: '50.00' });
      const inside = await adjudicate(contract({ network }), claim([item(1, 'A', '100.00')], 'clinic-in'), null);
      expect(inside.lines[0]).toMatchObject({ inNetwork: true, coinsurance: '20.00', benefit: '80.00' });
    });

    it('denies out-of-network lines (CO-242) when the contract says so', async () => {
      const network = { providers: ['clinic-in'], outOfNetwork: { action: 'deny' as const } };
      const result = await adjudicate(contract({ network }), claim([item(1, 'A', '100.00')], 'clinic-out'), null);
      expect(result.lines[0]).toMatchObject({ status: 'denied', reasons: ['CO-242'] });
      expect(result.decision).toBe('denied');
    });
  });

  describe('eligibility', () => {
    it('denies lines outside the policy period (CO-26 before, CO-27 after)', async () => {
      const result = await adjudicate(
        contract(),
        claim([
          item(1, 'A', '10.00', '2025-12-31'),
          item(2, 'B', '10.00', '2026-06-01'),
          item(3, 'C', '10.00', '2027-01-01'),
        ]),
        onPolicy(),
      );
      expect(result.lines.map((l) => l.reasons)).toEqual([['CO-26'], ['PR-2'], ['CO-27']]);
      expect(result.decision).toBe('partial');
    });

    it('denies lines outside the contract window', async () => {
      const result = await adjudicate(
        contract({ validFrom: '2026-03-01', validTo: '2026-03-31' }),
        claim([item(1, 'A', '10.00', '2026-04-01')]),
        null,
      );
      expect(result.lines[0].reasons).toEqual(['CO-27']);
    });

    it('denies every line of a patient who is not the enrolled member (CO-31)', async () => {
      const result = await adjudicate(
        contract(),
        claim([item(1, 'A', '10.00')]),
        onPolicy({}, { ...POLICY, memberPseudonym: 'b'.repeat(64) }),
      );
      expect(result.lines[0].reasons).toEqual(['CO-31']);
      expect(result.decision).toBe('denied');
    });

    it('denies with the reason a deny-line rule gives', async () => {
      const rules: ContractDefinition['rules'] = [
        ...PAY_ALL,
        {
          name: 'no-cosmetic',
          priority: 5,
          conditions: { all: [{ fact: 'code', operator: 'in', value: ['COSM'] }] },
          event: { type: 'deny-line', params: { reason: 'CO-50' } },
        },
      ];
      const result = await adjudicate(contract({}, rules), claim([item(1, 'COSM', '10.00')]), null);
      expect(result.lines[0]).toMatchObject({ status: 'denied', reasons: ['CO-50'] });
    });

    it('caps a line above its per-code limit (CO-45)', async () => {
      const result = await adjudicate(
        contract({ perCodeLimits: [{ code: `${CPT}|99213`, maxAmount: '80.00', action: 'cap' }] }),
        claim([item(1, '99213', '100.00')]),
        null,
      );
      expect(result.lines[0]).toMatchObject({ status: 'partial', eligible: '80.00', benefit: '64.00' });
      expect(result.lines[0].adjustments).toEqual([
        { reason: 'CO-45', amount: '20.00' },
        { reason: 'PR-2', amount: '16.00' },
      ]);
    });
  });

  describe('pended claims', () => {
    it('pends the whole claim when a line is above a per-code limit marked for review, paying nothing', async () => {
      const result = await adjudicate(
        contract({
          perCodeLimits: [{ code: `${CPT}|99213`, maxAmount: '80.00', action: 'pend' }],
          deductible: '10.00',
        }),
        claim([item(1, '85025', '20.00'), item(2, '99213', '100.00')]),
        onPolicy(),
      );
      expect(result.decision).toBe('pended');
      expect(result.payable).toBe('0.00');
      expect(result.lines[1]).toMatchObject({
        status: 'pended',
        reasons: ['CO-133'],
        pendReasons: ['per-code-limit:80.00'],
      });
      expect(result.accumulators.after).toEqual(result.accumulators.before);
    });

    it('pends when a pend-line rule fires', async () => {
      const rules: ContractDefinition['rules'] = [
        ...PAY_ALL,
        {
          name: 'big-ticket',
          priority: 5,
          conditions: { all: [{ fact: 'net', operator: 'greaterThan', value: 5000 }] },
          event: { type: 'pend-line', params: { reason: 'medical review above 5000' } },
        },
      ];
      const result = await adjudicate(contract({}, rules), claim([item(1, 'A', '6000.00')]), null);
      expect(result.decision).toBe('pended');
      expect(result.lines[0].pendReasons).toEqual(['rule:big-ticket:medical review above 5000']);
    });

    it('pends a claim without a policy when the contract needs plan-year accumulators', async () => {
      const result = await adjudicate(contract({ deductible: '100.00' }), claim([item(1, 'A', '10.00')]), null);
      expect(result.decision).toBe('pended');
      expect(result.lines[0].pendReasons).toEqual([PEND_NO_POLICY]);
    });
  });

  describe('after review', () => {
    const pendAbove80 = contract({
      perCodeLimits: [{ code: `${CPT}|99213`, maxAmount: '80.00', action: 'pend' }],
      annualLimit: '1000.00',
    });
    const lines = () => claim([item(1, '85025', '20.00'), item(2, '99213', '100.00')]);

    it('prices the pended lines as submitted when the reviewer approves', async () => {
      const result = await adjudicate(pendAbove80, lines(), onPolicy(), { decision: 'approve' });
      expect(result.decision).toBe('approved');
      expect(result.lines[1]).toMatchObject({
        status: 'approved',
        benefit: '80.00',
        pendReasons: [],
        reviewedPendReasons: ['per-code-limit:80.00'],
      });
      expect(result.payable).toBe('96.00');
      expect(result.accumulators.after['2026-01-01'].benefitPaid).toBe('96.00');
    });

    it('applies the deductible once across the lines of an approved claim that has no policy', async () => {
      const result = await adjudicate(
        contract({ deductible: '50.00' }),
        claim([item(1, 'A', '40.00'), item(2, 'B', '40.00')]),
        null,
        { decision: 'approve' },
      );
      expect(result.lines.map((l) => l.deductible)).toEqual(['40.00', '10.00']);
      expect(result.payable).toBe('24.00');
      expect(result.accumulators).toEqual({ before: {}, after: {} });
    });

    it("denies the pended lines with the reviewer's code and pays the rest", async () => {
      const result = await adjudicate(pendAbove80, lines(), onPolicy(), { decision: 'deny', code: 'CO-50' });
      expect(result.decision).toBe('partial');
      expect(result.lines.map((l) => [l.status, l.reasons])).toEqual([
        ['approved', ['PR-2']],
        ['denied', ['CO-50']],
      ]);
      expect(result.payable).toBe('16.00');
    });
  });

  describe('replay', () => {
    it('is deterministic: the same inputs give byte-identical JSON', async () => {
      const inputs = [
        contract({ deductible: '50.00', annualLimit: '500.00' }),
        claim([item(2, '15780', '10.00'), item(1, '99213', '120.00'), item(3, '85025', '475.25')]),
        onPolicy({ '2026-01-01': { deductibleMet: '10.00', benefitPaid: '100.00' } }),
      ] as const;
      const a = JSON.stringify(await adjudicate(...inputs));
      const b = JSON.stringify(await adjudicate(...structuredClone(inputs)));
      expect(a).toBe(b);
      expect(JSON.parse(a)).toMatchObject({ decision: 'partial', payable: '400.00' });
    });

    it('processes lines in sequence order whatever order they arrive in', async () => {
      const c = contract({ deductible: '50.00' });
      const forward = await adjudicate(c, claim([item(1, 'A', '40.00'), item(2, 'B', '40.00')]), onPolicy());
      const reversed = await adjudicate(c, claim([item(2, 'B', '40.00'), item(1, 'A', '40.00')]), onPolicy());
      expect(JSON.stringify(reversed)).toBe(JSON.stringify(forward));
    });
  });

  it('keeps every line balanced: submitted = CO adjustments + deductible + coinsurance + benefit', async () => {
    const result = await adjudicate(
      contract({
        deductible: '33.33',
        annualLimit: '100.00',
        perCodeLimits: [{ code: `${CPT}|B`, maxAmount: '7.77', action: 'cap' }],
      }),
      claim([item(1, 'A', '45.67'), item(2, 'B', '12.34'), item(3, '15780', '9.99'), item(4, 'C', '99.99')]),
      onPolicy(),
    );
    for (const l of result.lines) {
      const co = l.adjustments
        .filter((a) => a.reason.startsWith('CO-'))
        .reduce((s, a) => s + Math.round(Number(a.amount) * 100), 0);
      const parts = [l.deductible, l.coinsurance, l.benefit].reduce((s, a) => s + Math.round(Number(a) * 100), 0);
      expect(co + parts).toBe(Math.round(Number(l.submitted) * 100));
    }
  });
});

describe(`${adjudicateBy.name} (${ADJUDICATION_ALGORITHM})`, () => {
  it('denies every line of a claim no policy covers (CO-31) and pays nothing, whatever the contract says', async () => {
    const result = await adjudicateBy(
      DEMO_CONTRACT,
      claim([item(1, '99213', '120.00'), item(2, '85025', '30.50')]),
      null,
    );
    expect(result).toMatchObject({ algorithm: ADJUDICATION_ALGORITHM, decision: 'denied', payable: '0.00' });
    expect(result.lines.map((l) => [l.status, l.benefit, l.reasons])).toEqual([
      ['denied', '0.00', ['CO-31']],
      ['denied', '0.00', ['CO-31']],
    ]);
  });

  it('denies the lines outside the policy period (CO-26 before, CO-27 after) and pays the ones inside', async () => {
    const lines = [
      item(1, 'A', '10.00', '2025-12-31'),
      item(2, 'A', '10.00', '2026-06-01'),
      item(3, 'A', '10.00', '2027-01-01'),
    ];
    const result = await adjudicateBy(contract(), claim(lines), onPolicy());
    expect(result.lines.map((l) => [l.status, l.reasons])).toEqual([
      ['denied', ['CO-26']],
      ['approved', ['PR-2']],
      ['denied', ['CO-27']],
    ]);
    expect(result.payable).toBe('8.00');
  });

  it('pays a claim without a policy only under the policyless v2 (development, and decisions made before v3)', async () => {
    const result = await adjudicateBy(
      DEMO_CONTRACT,
      claim([item(1, '99213', '120.00')]),
      null,
      null,
      POLICYLESS_ADJUDICATION_ALGORITHM,
    );
    expect(result).toMatchObject({ algorithm: POLICYLESS_ADJUDICATION_ALGORITHM, payable: '96.00' });
  });
});

describe(`${adjudicateBy.name}: lines the treatment verification did not verify`, () => {
  const lines = [item(1, 'A', '100.00'), item(2, 'B', '40.00'), item(3, 'C', '60.00')];
  const withDeductible = contract({ deductible: '50.00' });

  it('denies each unverified line with its CARC code and pays only the verified ones', async () => {
    const unverified = [
      { sequence: 2, code: 'QUANTITY_SHORT' },
      { sequence: 3, code: 'NOT_PERFORMED' },
    ];
    const result = await adjudicateBy(withDeductible, { ...claim(lines), unverified }, onPolicy());
    expect(result.lines.map((l) => [l.sequence, l.status, l.reasons, l.benefit])).toEqual([
      [1, 'approved', ['PR-1', 'PR-2'], '40.00'],
      [2, 'denied', ['CO-151'], '0.00'],
      [3, 'denied', ['CO-112'], '0.00'],
    ]);
    expect(result).toMatchObject({ decision: 'partial', payable: '40.00', unverified });
    // The deductible is taken from the verified line only.
    expect(result.accumulators.after['2026-01-01']).toEqual({ deductibleMet: '50.00', benefitPaid: '40.00' });
  });

  it('denies a line left unverified for a reason it does not know (and date mismatches) with CO-112', async () => {
    const result = await adjudicateBy(
      contract(),
      {
        ...claim(lines),
        unverified: [
          { sequence: 1, code: 'DATE_MISMATCH' },
          { sequence: 2, code: 'NOT_VERIFIED' },
        ],
      },
      onPolicy(),
    );
    expect(result.lines.map((l) => l.reasons)).toEqual([['CO-112'], ['CO-112'], ['PR-2']]);
  });

  it('denies an unverified line before anything else, even one a policy would not cover', async () => {
    const result = await adjudicateBy(
      DEMO_CONTRACT,
      { ...claim(lines), unverified: [{ sequence: 1, code: 'X' }] },
      null,
    );
    expect(result.lines.map((l) => l.reasons)).toEqual([['CO-112'], ['CO-31'], ['CO-31']]);
  });

  it('gives a claim with every line verified exactly the result it gave before line-level verification', async () => {
    const before = await adjudicateBy(withDeductible, claim(lines), onPolicy());
    const none = await adjudicateBy(withDeductible, { ...claim(lines), unverified: [] }, onPolicy());
    expect('unverified' in before).toBe(false);
    expect(JSON.stringify(none)).toBe(JSON.stringify(before));
  });
});

describe(`${adjudicateBy.name}: a contract that requires the provider's signed attestation`, () => {
  const lines = [item(1, 'A', '100.00'), item(2, 'B', '40.00')];
  const requiring = contract({ attestationRequired: true, deductible: '50.00' });

  it('pays a claim whose verification carried an attestation as if nothing were required', async () => {
    const required = await adjudicateBy(requiring, claim(lines), onPolicy());
    const { attestationRequired: _, ...parameters } = requiring.parameters;
    const notAsked = await adjudicateBy({ ...requiring, parameters }, claim(lines), onPolicy());
    expect(required).toMatchObject({ decision: 'approved', payable: '72.00' });
    expect(JSON.stringify(required)).toBe(JSON.stringify(notAsked));
  });

  it('pends every line not denied otherwise when the verification carried none, paying and consuming nothing', async () => {
    const result = await adjudicateBy(
      requiring,
      { ...claim([...lines, item(3, '15780', '10.00')]), unattested: true },
      onPolicy(),
    );
    expect(result).toMatchObject({ decision: 'pended', payable: '0.00', unattested: true });
    expect(result.lines.map((l) => [l.status, l.pendReasons, l.reasons])).toEqual([
      ['pended', [PEND_ATTESTATION_MISSING], ['CO-133']],
      ['pended', [PEND_ATTESTATION_MISSING], ['CO-133']],
      // An excluded code is denied whatever the attestation.
      ['denied', [], ['CO-204']],
    ]);
    expect(result.accumulators.after).toEqual(result.accumulators.before);
  });

  it('lets a reviewer pay or deny the lines pended for want of an attestation', async () => {
    const input = { ...claim(lines), unattested: true };
    const approved = await adjudicateBy(requiring, input, onPolicy(), { decision: 'approve' });
    expect(approved).toMatchObject({ decision: 'approved', payable: '72.00', unattested: true });
    expect(approved.lines[0].reviewedPendReasons).toEqual([PEND_ATTESTATION_MISSING]);
    const denied = await adjudicateBy(requiring, input, onPolicy(), { decision: 'deny', code: 'CO-16' });
    expect(denied).toMatchObject({ decision: 'denied', payable: '0.00' });
    expect(denied.lines.map((l) => l.reasons)).toEqual([['CO-16'], ['CO-16']]);
  });

  it('gives an unattested claim under a contract that does not ask exactly the result it gave before', async () => {
    const before = await adjudicateBy(contract({ deductible: '50.00' }), claim(lines), onPolicy());
    const unattested = await adjudicateBy(
      contract({ deductible: '50.00' }),
      { ...claim(lines), unattested: true },
      onPolicy(),
    );
    expect('unattested' in unattested).toBe(false);
    expect(JSON.stringify(unattested)).toBe(JSON.stringify(before));
  });
});

describe('a claim pended without its contract running', () => {
  const lines = [item(1, 'A', '100.00'), item(2, 'B', '40.00')];
  const input = { ...claim(lines), unverified: [{ sequence: 2, code: 'QUANTITY_SHORT' }], unattested: true };

  it('keeps what the verification said with the pended decision, and says why the contract did not run', () => {
    const pended = pendedUnrun(input, onPolicy(), PEND_CONTRACT_NOT_ACTIVE);
    expect(pended).toMatchObject({
      decision: 'pended',
      unverified: [{ sequence: 2, code: 'QUANTITY_SHORT' }],
      unattested: true,
    });
    expect(unrunReasonOf(pended)).toBe(PEND_CONTRACT_NOT_ACTIVE);
  });

  it('is denied by a reviewer line by line without running the contract, unverified lines with their own code', () => {
    const denied = deniedUnrun(
      input,
      onPolicy({ '2026-01-01': { deductibleMet: '5.00', benefitPaid: '7.00' } }),
      PEND_CONTRACT_TIMEOUT,
      'CO-50',
    );
    expect(denied).toMatchObject({
      decision: 'denied',
      payable: '0.00',
      unrun: PEND_CONTRACT_TIMEOUT,
      review: { decision: 'deny', code: 'CO-50' },
    });
    expect('unattested' in denied).toBe(false);
    expect(denied.lines.map((l) => [l.status, l.reasons, l.reviewedPendReasons])).toEqual([
      ['denied', ['CO-50'], [PEND_CONTRACT_TIMEOUT]],
      ['denied', ['CO-151'], [PEND_CONTRACT_TIMEOUT]],
    ]);
    expect(denied.accumulators.after).toEqual(denied.accumulators.before);
  });

  it('is told apart from a decision the contract itself pended', async () => {
    const ran = await adjudicate(
      contract({ perCodeLimits: [{ code: `${CPT}|A`, maxAmount: '80.00', action: 'pend' }] }),
      claim(lines),
      null,
    );
    expect(ran.decision).toBe('pended');
    expect(unrunReasonOf(ran)).toBeUndefined();
    expect(unrunReasonOf(await adjudicate(contract(), claim(lines), null))).toBeUndefined();
  });
});
