import { z } from 'zod';
import { Topics, TopicName } from './topics';
import { ClaimCancelledV1, ClaimSubmittedV1 } from './events/claim-submitted.event';
import { TreatmentRejectedV1, TreatmentVerifiedV1, TreatmentWithdrawalRequestedV1 } from './events/treatment.events';
import { LedgerAnchoredV2, LedgerCheckpointV1 } from './events/ledger.events';
import {
  ClaimAdjudicatedV1,
  ClaimPendedV1,
  ContractPublishedV1,
  ContractStateChangedV1,
  PayoutCancellationDecidedV1,
  PayoutWithdrawalDecidedV1,
  PayoutFailedV1,
  PayoutReleasedV1,
  PayoutRetriedV1,
  PayoutSettledV1,
} from './events/payout.events';
import { PolicyEnrolledV1 } from './events/policy.events';

/**
 * The one place that ties a topic to its CloudEvents type and data schema. Producers and consumers both validate
 * against it (messaging does that), so a schema change shows up on both sides at once.
 */
export const EventCatalog = {
  [Topics.ClaimsSubmitted]: { type: 'claim.submitted', schema: ClaimSubmittedV1 },
  [Topics.ClaimsCancelled]: { type: 'claim.cancelled', schema: ClaimCancelledV1 },
  [Topics.TreatmentsVerified]: { type: 'treatment.verified', schema: TreatmentVerifiedV1 },
  [Topics.TreatmentsRejected]: { type: 'treatment.rejected', schema: TreatmentRejectedV1 },
  [Topics.LedgerAnchored]: { type: 'ledger.anchored', schema: LedgerAnchoredV2 },
  [Topics.LedgerCheckpoints]: { type: 'ledger.checkpoint', schema: LedgerCheckpointV1 },
  [Topics.ContractsPublished]: { type: 'contract.published', schema: ContractPublishedV1 },
  [Topics.ContractsStates]: { type: 'contract.state-changed', schema: ContractStateChangedV1 },
  [Topics.ClaimsAdjudicated]: { type: 'claim.adjudicated', schema: ClaimAdjudicatedV1 },
  [Topics.PayoutsReleased]: { type: 'payout.released', schema: PayoutReleasedV1 },
  [Topics.ClaimsPended]: { type: 'claim.pended', schema: ClaimPendedV1 },
  [Topics.PayoutsSettled]: { type: 'payout.settled', schema: PayoutSettledV1 },
  [Topics.PayoutsFailed]: { type: 'payout.failed', schema: PayoutFailedV1 },
  [Topics.PayoutsRetried]: { type: 'payout.retried', schema: PayoutRetriedV1 },
  [Topics.PoliciesEnrolled]: { type: 'policy.enrolled', schema: PolicyEnrolledV1 },
  [Topics.PayoutsCancellationDecided]: { type: 'payout.cancellation-decided', schema: PayoutCancellationDecidedV1 },
  [Topics.TreatmentsWithdrawalRequested]: {
    type: 'treatment.withdrawal-requested',
    schema: TreatmentWithdrawalRequestedV1,
  },
  [Topics.PayoutsWithdrawalDecided]: { type: 'payout.withdrawal-decided', schema: PayoutWithdrawalDecidedV1 },
} as const satisfies Record<TopicName, { type: string; schema: z.ZodTypeAny }>;

export type EventCatalog = typeof EventCatalog;
export type EventDataOf<T extends TopicName> = z.infer<EventCatalog[T]['schema']>;

export const DATASCHEMA_BASE = 'https://claimchain.dev/schemas';

export function dataschemaOf(topic: TopicName): string {
  return `${DATASCHEMA_BASE}/${topic}`;
}

/** Domain topics the ledger records: everything except the ledger's own output. */
export const LEDGER_RECORDED_TOPICS: readonly TopicName[] = [
  Topics.ClaimsSubmitted,
  Topics.ClaimsCancelled,
  Topics.TreatmentsVerified,
  Topics.TreatmentsRejected,
  Topics.ContractsPublished,
  Topics.ContractsStates,
  Topics.ClaimsAdjudicated,
  Topics.PayoutsReleased,
  Topics.ClaimsPended,
  Topics.PayoutsSettled,
  Topics.PayoutsFailed,
  Topics.PayoutsRetried,
  Topics.PoliciesEnrolled,
  Topics.PayoutsCancellationDecided,
  Topics.TreatmentsWithdrawalRequested,
  Topics.PayoutsWithdrawalDecided,
];
