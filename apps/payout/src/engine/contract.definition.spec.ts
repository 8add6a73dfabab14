import {
  CONTRACT_LIMITS,
  ContractDefinition,
  contractIdOf,
  DEMO_CONTRACT,
  PublishContractRequest,
} from './contract.definition';

describe(contractIdOf.name, () => {
  it('is the same for the same rules whatever the key order', () => {
    const { rules, ...rest } = DEMO_CONTRACT;
    const reordered = { rules, ...rest };
    expect(Object.keys(reordered)[0]).toBe('rules');
    expect(contractIdOf(reordered)).toBe(contractIdOf(DEMO_CONTRACT));
    expect(contractIdOf(DEMO_CONTRACT)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes when any parameter changes', () => {
    const changed = { ...DEMO_CONTRACT, parameters: { ...DEMO_CONTRACT.parameters, coinsurancePercent: 21 } };
    expect(contractIdOf(changed)).not.toBe(contractIdOf(DEMO_CONTRACT));
  });

  it('keeps the demo contract id stable, so databases that already hold it keep paying by it', () => {
    expect(contractIdOf(DEMO_CONTRACT)).toBe('dedd2b09f1d77335493571f7e29e76731a005f5941f2ae32dfd8c94a49c13004');
  });
});

describe('ContractDefinition', () => {
  it('accepts the demo contract unchanged', () => {
    expect(ContractDefinition.parse(DEMO_CONTRACT)).toEqual(DEMO_CONTRACT);
  });

  it('names each offending field of an invalid contract', () => {
    const result = PublishContractRequest.safeParse({
      name: 'x',
      version: '1',
      parameters: { coinsurancePercent: 120, excludedCodes: ['99213'], deductible: '10.00', extra: 1 },
      rules: [
        {
          name: 'r',
          conditions: { all: [{ fact: 'patientName', operator: 'equal', value: 'x' }] },
          event: { type: 'pay-line' },
        },
        { name: 'r', conditions: { any: [] }, event: { type: 'deny-line', params: { reason: 'because' } } },
      ],
    });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((i) => i.path.join('/'));
    expect(paths).toEqual(
      expect.arrayContaining([
        'parameters/coinsurancePercent',
        'parameters/excludedCodes/0',
        'parameters',
        'rules/0/conditions',
        'rules/1/event/params/reason',
      ]),
    );
  });

  it('refuses money parameters without a currency and a window that ends before it starts', () => {
    const result = PublishContractRequest.safeParse({
      name: 'x',
      version: '1',
      parameters: {
        coinsurancePercent: 10,
        excludedCodes: [],
        annualLimit: '100.00',
        validFrom: '2026-02-01',
        validTo: '2026-01-01',
      },
      rules: DEMO_CONTRACT.rules,
    });
    expect(result.error!.issues.map((i) => i.path.join('/'))).toEqual(['parameters/currency', 'parameters/validTo']);
  });
});

describe('CONTRACT_LIMITS', () => {
  const leaf = (value: unknown = 0) => ({ fact: 'quantity', operator: 'greaterThan', value });
  const rule = (name: string, conditions: unknown) => ({ name, conditions, event: { type: 'pay-line' } });
  const contract = (rules: unknown[], excludedCodes: string[] = []) => ({
    name: 'limits',
    version: '1',
    parameters: { coinsurancePercent: 20, excludedCodes },
    rules,
  });
  const nested = (depth: number): unknown => (depth === 1 ? leaf() : { all: [nested(depth - 1)] });
  /** The pointers the problem+json would name (libs/http's fieldErrorsOf), with their messages. */
  const refusals = (body: unknown) => {
    const result = PublishContractRequest.safeParse(body);
    return result.success ? [] : result.error.issues.map((i) => ({ path: i.path.join('/'), message: i.message }));
  };

  it('accepts a contract at every limit', () => {
    const atLimits = contract([
      rule('deep', nested(CONTRACT_LIMITS.maxConditionDepth)),
      ...Array.from({ length: CONTRACT_LIMITS.maxRules - 1 }, (_, i) => rule(`r${i}`, { all: [leaf()] })),
    ]);
    expect(refusals(atLimits)).toEqual([]);
  });

  it('refuses conditions nested too deep, naming the rule', () => {
    const body = contract([rule('ok', { all: [leaf()] }), rule('deep', nested(CONTRACT_LIMITS.maxConditionDepth + 1))]);
    expect(refusals(body)).toEqual([{ path: 'rules/1/conditions', message: expect.stringMatching(/nest 9 levels/) }]);
  });

  it('refuses too many rules, naming the rules', () => {
    const body = contract(
      Array.from({ length: CONTRACT_LIMITS.maxRules + 1 }, (_, i) => rule(`r${i}`, { all: [leaf()] })),
    );
    expect(refusals(body)).toEqual([{ path: 'rules', message: expect.stringMatching(/at most 50/) }]);
  });

  it('refuses too many conditions across the rules, naming the rules', () => {
    // 40 rules of 7 conditions each (an `all` of 6): 280 conditions.
    const body = contract(
      Array.from({ length: 40 }, (_, i) => rule(`r${i}`, { all: Array.from({ length: 6 }, () => leaf()) })),
    );
    expect(refusals(body)).toEqual([{ path: 'rules', message: expect.stringMatching(/^280 conditions/) }]);
  });

  it('refuses too many values compared against, naming the rules', () => {
    const codes = Array.from({ length: CONTRACT_LIMITS.maxConditionValues }, (_, i) => `C${i}`);
    const body = contract([rule('in', { all: [{ fact: 'code', operator: 'in', value: codes }, leaf()] })]);
    expect(refusals(body)).toEqual([{ path: 'rules', message: expect.stringMatching(/^2001 condition values/) }]);
  });

  it('refuses a contract over the size limit, naming the whole body', () => {
    const codes = Array.from(
      { length: 7_000 },
      (_, i) => `http://www.ama-assn.org/go/cpt|C${String(i).padStart(6, '0')}`,
    );
    const body = contract([rule('r', { all: [leaf()] })], codes);
    expect(refusals(body)).toEqual([
      { path: '', message: expect.stringMatching(/bytes as canonical JSON; at most 262144/) },
    ]);
  });
});
