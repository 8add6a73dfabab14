import { ContractDefinition, contractIdOf, DEMO_CONTRACT, PublishContractRequest } from './contract.definition';

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
