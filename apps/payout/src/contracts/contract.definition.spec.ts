import { contractIdOf, DEMO_CONTRACT } from './contract.definition';

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
});
