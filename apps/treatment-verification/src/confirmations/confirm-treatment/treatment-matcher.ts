import { ClaimSubmittedV1 } from '@claimchain/contracts';

export interface PerformedTreatment {
  system: string;
  code: string;
  quantity: number;
  performedAt: string;
}

export interface MatchReason {
  sequence: number;
  code: 'NOT_PERFORMED' | 'DATE_MISMATCH' | 'QUANTITY_SHORT';
  message: string;
}

export type MatchResult =
  | {
      outcome: 'verified';
      items: { sequence: number; system: string; code: string; quantity: number; performedAt: string }[];
    }
  | { outcome: 'rejected'; reasons: MatchReason[] };

/**
 * Pure: does the provider's account of what was performed cover every claimed line? A line is confirmed when the
 * same code (system + code) was performed on its serviced date at least the claimed number of times; performed
 * quantities are consumed as lines match, so one performance cannot confirm two lines.
 */
export function matchTreatments(claimItems: ClaimSubmittedV1['items'], performed: PerformedTreatment[]): MatchResult {
  const remaining = performed.map((p) => ({ ...p }));
  const reasons: MatchReason[] = [];
  const items: Extract<MatchResult, { outcome: 'verified' }>['items'] = [];
  for (const line of claimItems) {
    const sameCode = remaining.filter((p) => p.system === line.system && p.code === line.code);
    const sameDay = sameCode.filter((p) => p.performedAt === line.servicedDate);
    const available = sameDay.reduce((n, p) => n + p.quantity, 0);
    if (sameCode.length === 0) {
      reasons.push({
        sequence: line.sequence,
        code: 'NOT_PERFORMED',
        message: `${line.system}|${line.code} was not performed`,
      });
    } else if (sameDay.length === 0) {
      reasons.push({
        sequence: line.sequence,
        code: 'DATE_MISMATCH',
        message: `${line.code} was performed on ${sameCode.map((p) => p.performedAt).join(', ')}, claimed for ${line.servicedDate}`,
      });
    } else if (available < line.quantity) {
      reasons.push({
        sequence: line.sequence,
        code: 'QUANTITY_SHORT',
        message: `${line.code}: ${available} performed, ${line.quantity} claimed`,
      });
    } else {
      let needed = line.quantity;
      for (const p of sameDay) {
        const used = Math.min(p.quantity, needed);
        p.quantity -= used;
        needed -= used;
      }
      items.push({
        sequence: line.sequence,
        system: line.system,
        code: line.code,
        quantity: line.quantity,
        performedAt: line.servicedDate,
      });
    }
  }
  return reasons.length ? { outcome: 'rejected', reasons } : { outcome: 'verified', items };
}
