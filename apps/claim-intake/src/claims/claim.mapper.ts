import { CloudEvent } from '@claimchain/wire';
import { ClaimEventRow, ClaimRow } from './claims.repository';

/** What an insurer sees of a claim. Built field by field: table columns never leak into the API. */
export interface ClaimSummaryDto {
  id: string;
  status: string;
  decision: string | null;
  insurerId: string;
  providerId: string;
  coverage: string;
  currency: string;
  total: string;
  payable: string | null;
  paid: string | null;
  cancelReason: string | null;
  resubmissionOf: string | null;
  submittedAt: string;
  updatedAt: string;
}

export interface ClaimTimelineEntryDto {
  eventId: string;
  type: string;
  time: string | null;
  event: CloudEvent | null;
  ledger: { index: number; leafHash: string; treeSize: number } | null;
}

export interface ClaimResponseDto extends ClaimSummaryDto {
  timeline: ClaimTimelineEntryDto[];
}

export function toSummaryDto(claim: ClaimRow): ClaimSummaryDto {
  return {
    id: claim.id,
    status: claim.status,
    decision: claim.decision,
    insurerId: claim.insurer_id,
    providerId: claim.provider_id,
    coverage: claim.coverage,
    currency: claim.currency,
    total: claim.total,
    payable: claim.payable,
    paid: claim.paid,
    cancelReason: claim.cancel_reason,
    resubmissionOf: claim.resubmission_of,
    submittedAt: claim.submitted_at.toISOString(),
    updatedAt: claim.updated_at.toISOString(),
  };
}

export function toResponseDto(claim: ClaimRow, events: ClaimEventRow[]): ClaimResponseDto {
  return {
    ...toSummaryDto(claim),
    timeline: events.map((e) => ({
      eventId: e.event_id,
      type: e.type,
      time: e.time ? e.time.toISOString() : null,
      event: e.envelope,
      ledger:
        e.ledger_index === null
          ? null
          : { index: Number(e.ledger_index), leafHash: e.leaf_hash!, treeSize: Number(e.tree_size) },
    })),
  };
}
