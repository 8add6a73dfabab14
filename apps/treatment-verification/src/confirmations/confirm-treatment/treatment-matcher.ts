import { ClaimSubmittedV1 } from '@claimchain/wire';

export interface PerformedTreatment {
  system: string;
  code: string;
  quantity: number;
  performedAt: string;
}

/**
 * Why a claimed line was not verified. Stable codes (the API, treatments.verified.v1's `unverified` and
 * treatments.rejected.v1 carry them; payout maps each to a CARC code):
 * - NOT_PERFORMED: no performance with the line's code system and code;
 * - DATE_MISMATCH: performed, but never within the insurer's date tolerance of the line's serviced date;
 * - QUANTITY_SHORT: performed within the tolerance, but fewer times than claimed (what is left after earlier lines).
 */
export interface MatchReason {
  sequence: number;
  code: 'NOT_PERFORMED' | 'DATE_MISMATCH' | 'QUANTITY_SHORT';
  message: string;
}

/**
 * A performance (or what is left of one) that verified no claimed line: not on the claim, more than the claim lists,
 * or too few for its line (which is then QUANTITY_SHORT). Reported, never silently dropped.
 */
export interface UnclaimedReason {
  code: 'NOT_CLAIMED';
  message: string;
  performed: PerformedTreatment;
}

export interface VerifiedLine {
  sequence: number;
  system: string;
  code: string;
  quantity: number;
  /** When it was performed: the nearest performance date used for it (the serviced date when they are equal). */
  performedAt: string;
}

/**
 * Each claimed line verified or not on its own. `verified` when at least one line is (payout pays those and denies
 * the rest), `rejected` when none is.
 */
export interface MatchResult {
  outcome: 'verified' | 'rejected';
  items: VerifiedLine[];
  unverified: MatchReason[];
  unclaimed: PerformedTreatment[];
}

/** How the matcher compares dates: days either side of a line's serviced date still count as its date. */
export interface MatchOptions {
  dateToleranceDays: number;
}

const DAY_MS = 86_400_000;
const daysBetween = (a: string, b: string) => Math.abs(Date.parse(a) - Date.parse(b)) / DAY_MS;

/**
 * Pure: which claimed lines does the provider's account of what was performed cover? A line is verified when the
 * same code system and code was performed within `dateToleranceDays` of its serviced date at least the claimed
 * number of times. Lines are matched in sequence order and consume what they use, nearest date first (then earliest),
 * so one performance never verifies two lines; whatever no line used is returned as `unclaimed`.
 */
export function matchTreatments(
  claimItems: ClaimSubmittedV1['items'],
  performed: readonly PerformedTreatment[],
  options: MatchOptions = { dateToleranceDays: 0 },
): MatchResult {
  const remaining = performed.map((p) => ({ ...p }));
  const unverified: MatchReason[] = [];
  const items: VerifiedLine[] = [];
  for (const line of [...claimItems].sort((a, b) => a.sequence - b.sequence)) {
    const sameCode = remaining.filter((p) => p.system === line.system && p.code === line.code);
    const inWindow = sameCode
      .filter((p) => daysBetween(p.performedAt, line.servicedDate) <= options.dateToleranceDays)
      .sort(
        (a, b) =>
          daysBetween(a.performedAt, line.servicedDate) - daysBetween(b.performedAt, line.servicedDate) ||
          a.performedAt.localeCompare(b.performedAt),
      );
    const available = inWindow.reduce((n, p) => n + p.quantity, 0);
    const within = options.dateToleranceDays === 0 ? '' : ` ± ${options.dateToleranceDays} day(s)`;
    if (sameCode.length === 0) {
      unverified.push({
        sequence: line.sequence,
        code: 'NOT_PERFORMED',
        message: `${line.system}|${line.code} was not performed`,
      });
    } else if (inWindow.length === 0) {
      unverified.push({
        sequence: line.sequence,
        code: 'DATE_MISMATCH',
        message: `${line.code} was performed on ${[...new Set(sameCode.map((p) => p.performedAt))].join(', ')}, claimed for ${line.servicedDate}${within}`,
      });
    } else if (available < line.quantity) {
      unverified.push({
        sequence: line.sequence,
        code: 'QUANTITY_SHORT',
        message: `${line.code}: ${available} performed on ${line.servicedDate}${within} and not used by another line, ${line.quantity} claimed`,
      });
    } else {
      let needed = line.quantity;
      const usable = inWindow.filter((w) => w.quantity > 0);
      for (const p of usable) {
        const used = Math.min(p.quantity, needed);
        p.quantity -= used;
        needed -= used;
        if (needed === 0) break;
      }
      items.push({
        sequence: line.sequence,
        system: line.system,
        code: line.code,
        quantity: line.quantity,
        performedAt: usable[0].performedAt,
      });
    }
  }
  return {
    outcome: items.length > 0 ? 'verified' : 'rejected',
    items,
    unverified,
    unclaimed: remaining.filter((p) => p.quantity > 0),
  };
}

/** The unclaimed performances as reasons a provider reads beside the lines' own. */
export function unclaimedReasons(unclaimed: readonly PerformedTreatment[]): UnclaimedReason[] {
  return unclaimed.map((p) => ({
    code: 'NOT_CLAIMED',
    message: `${p.system}|${p.code} × ${p.quantity} performed on ${p.performedAt} verified no claimed line: not claimed, more than claimed, or too few for its line`,
    performed: { system: p.system, code: p.code, quantity: p.quantity, performedAt: p.performedAt },
  }));
}
