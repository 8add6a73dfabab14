import { activeOn, ALWAYS, stateOn, todayUtc } from './contract-state';

describe('contract lifecycle (ADR 21)', () => {
  const draft = { effectiveFrom: null, retiredFrom: null };
  const v1 = { effectiveFrom: ALWAYS, retiredFrom: null };
  const june = { effectiveFrom: '2026-06-01', retiredFrom: '2026-07-01' };

  it('decides no service date by a draft, even one retired before it was ever activated', () => {
    expect(activeOn(draft, ['2026-06-01'])).toBe(false);
    expect(activeOn({ effectiveFrom: null, retiredFrom: '2026-06-02' }, ['2026-06-01'])).toBe(false);
  });

  it('is in force from its effective date (included) to its retirement (excluded), on every date of a claim', () => {
    expect(activeOn(v1, ['0001-01-01', '2026-06-01', '9999-12-31'])).toBe(true);
    expect(activeOn(june, ['2026-05-31'])).toBe(false);
    expect(activeOn(june, ['2026-06-01', '2026-06-30'])).toBe(true);
    expect(activeOn(june, ['2026-07-01'])).toBe(false);
    // One line outside the period is enough for the claim not to be decided by it.
    expect(activeOn(june, ['2026-06-15', '2026-07-01'])).toBe(false);
  });

  it('shows draft, scheduled, active or retired as of a day', () => {
    expect(stateOn(draft, '2026-06-15')).toBe('draft');
    expect(stateOn(v1, '2026-06-15')).toBe('active');
    expect(stateOn(june, '2026-05-31')).toBe('scheduled');
    expect(stateOn(june, '2026-06-01')).toBe('active');
    expect(stateOn(june, '2026-07-01')).toBe('retired');
    expect(stateOn({ effectiveFrom: null, retiredFrom: '2026-06-02' }, '2026-06-15')).toBe('retired');
    // A retirement scheduled for later leaves it active until then.
    expect(stateOn({ effectiveFrom: ALWAYS, retiredFrom: '2026-07-01' }, '2026-06-15')).toBe('active');
  });

  it("takes today's date in UTC", () => {
    expect(todayUtc(new Date('2026-12-05T23:59:59-05:00'))).toBe('2026-12-06');
  });
});
