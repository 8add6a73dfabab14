/**
 * Plan years and policy choice: pure date arithmetic on `YYYY-MM-DD` strings (UTC, no clock, no time zone), so
 * adjudication stays deterministic.
 */
export interface PolicyTerms {
  id: string;
  contractId: string;
  /** The member the policy enrols, when the insurer gave one; a claim for another patient is refused (CO-31). */
  memberPseudonym: string | null;
  start: string;
  end: string;
}

function addYears(date: string, years: number): string {
  const [y, m, d] = date.split('-').map(Number);
  const t = new Date(Date.UTC(y + years, m - 1, d));
  // 29 February in a year without one becomes 28 February, not 1 March.
  if (t.getUTCMonth() !== m - 1) t.setUTCDate(0);
  return t.toISOString().slice(0, 10);
}

/** The start of the plan year `date` falls in: plan years run from the policy's start date, one year each. */
export function planYearOf(policyStart: string, date: string): string {
  let years = Number(date.slice(0, 4)) - Number(policyStart.slice(0, 4));
  while (years > 0 && addYears(policyStart, years) > date) years -= 1;
  while (addYears(policyStart, years + 1) <= date) years += 1;
  return addYears(policyStart, Math.max(years, 0));
}

/**
 * The policy a claim is adjudicated under: the one whose period contains the claim's first service date, else
 * the latest one that started before it, else the earliest. Lines outside the chosen period are denied.
 */
export function choosePolicy<P extends Pick<PolicyTerms, 'start' | 'end'>>(
  policies: P[],
  firstServiceDate: string,
): P | undefined {
  const byStart = [...policies].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const covering = byStart.find((p) => p.start <= firstServiceDate && firstServiceDate <= p.end);
  if (covering) return covering;
  const before = byStart.filter((p) => p.start <= firstServiceDate);
  return before.length > 0 ? before[before.length - 1] : byStart[0];
}
