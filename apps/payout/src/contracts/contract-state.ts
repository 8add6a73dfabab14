/**
 * A contract's lifecycle (ADR 21): a draft (`effectiveFrom` null) decides no claim; an activated contract decides
 * the claims served on or after `effectiveFrom` and, once retired, before `retiredFrom`. Dates are ISO calendar
 * dates (YYYY-MM-DD), compared as text. A v1 publish is active from {@link ALWAYS}.
 */
export interface ContractPeriod {
  effectiveFrom: string | null;
  retiredFrom: string | null;
}

/** The effective date of every contract published through v1 (and before the lifecycle existed). */
export const ALWAYS = '0001-01-01';

export type ContractState = 'draft' | 'scheduled' | 'active' | 'retired';

/** Whether the contract decides a claim served on each of these dates. */
export function activeOn(period: ContractPeriod, dates: readonly string[]): boolean {
  const { effectiveFrom, retiredFrom } = period;
  if (effectiveFrom === null) return false;
  return dates.every((d) => d >= effectiveFrom && (retiredFrom === null || d < retiredFrom));
}

/** The state as of `today`: what `GET /v1/contracts/:id` shows beside the dates. */
export function stateOn(period: ContractPeriod, today: string): ContractState {
  if (period.retiredFrom !== null && period.retiredFrom <= today) return 'retired';
  if (period.effectiveFrom === null) return 'draft';
  return period.effectiveFrom <= today ? 'active' : 'scheduled';
}

/** Today's UTC calendar date. */
export function todayUtc(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}
