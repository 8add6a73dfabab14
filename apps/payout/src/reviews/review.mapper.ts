import { PendedClaimRow } from './review.repository';

/** A pended claim as the review queue shows it: what was claimed and why each pended line needs a person. */
export interface ReviewItemDto {
  claimId: string;
  contractId: string;
  policyId: string | null;
  pendedAt: string;
  currency: string;
  submitted: string;
  lines: {
    sequence: number;
    system: string;
    code: string;
    servicedDate: string;
    submitted: string;
    status: string;
    reasons: string[];
    pendReasons: string[];
  }[];
}

export function toReviewItemDto(row: PendedClaimRow): ReviewItemDto {
  return {
    claimId: row.claimId,
    contractId: row.contractId,
    policyId: row.policyId,
    pendedAt: new Date(row.pendedAt).toISOString(),
    currency: row.result.currency,
    submitted: row.result.submitted,
    lines: row.result.lines.map((l) => ({
      sequence: l.sequence,
      system: l.system,
      code: l.code,
      servicedDate: l.servicedDate,
      submitted: l.submitted,
      status: l.status,
      reasons: l.reasons,
      pendReasons: l.pendReasons,
    })),
  };
}
