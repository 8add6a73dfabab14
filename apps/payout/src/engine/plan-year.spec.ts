import { choosePolicy, planYearOf } from './plan-year';

describe(planYearOf.name, () => {
  it('counts plan years from the policy start date', () => {
    expect(planYearOf('2026-04-01', '2026-04-01')).toBe('2026-04-01');
    expect(planYearOf('2026-04-01', '2027-03-31')).toBe('2026-04-01');
    expect(planYearOf('2026-04-01', '2027-04-01')).toBe('2027-04-01');
    expect(planYearOf('2026-04-01', '2029-01-15')).toBe('2028-04-01');
  });

  it('treats 29 February as 28 February in years without one', () => {
    expect(planYearOf('2024-02-29', '2025-02-28')).toBe('2025-02-28');
    expect(planYearOf('2024-02-29', '2025-02-27')).toBe('2024-02-29');
  });

  it('puts a date before the start in the first plan year (such lines are denied anyway)', () => {
    expect(planYearOf('2026-04-01', '2026-01-01')).toBe('2026-04-01');
  });
});

describe(choosePolicy.name, () => {
  const a = { id: 'a', start: '2025-01-01', end: '2025-12-31' };
  const b = { id: 'b', start: '2026-01-01', end: '2026-12-31' };

  it('takes the policy whose period contains the date', () => {
    expect(choosePolicy([b, a], '2025-06-01')?.id).toBe('a');
    expect(choosePolicy([a, b], '2026-06-01')?.id).toBe('b');
  });

  it('else the latest that started before it, else the earliest', () => {
    expect(choosePolicy([a, b], '2027-06-01')?.id).toBe('b');
    expect(choosePolicy([b, a], '2024-06-01')?.id).toBe('a');
    expect(choosePolicy([], '2024-06-01')).toBeUndefined();
  });
});
