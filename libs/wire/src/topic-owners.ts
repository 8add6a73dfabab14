import { Topics, TopicName } from './topics';

/** The services that produce events (the names their signing keys carry, ADR 18). */
export type EventProducer = 'claim-intake' | 'treatment-verification' | 'ledger-anchoring' | 'payout';

/**
 * Which service produces each topic, defined once. A consumer accepts an event only when it is signed by a key of
 * its topic's owner (messaging checks that for every consumer, ADR 18), and the Kafka ACLs let each service's user
 * write only its own topics (deploy/k8s/components/strimzi, checked against this map by its spec).
 */
export const TopicOwners = {
  [Topics.ClaimsSubmitted]: 'claim-intake',
  [Topics.ClaimsCancelled]: 'claim-intake',
  [Topics.TreatmentsVerified]: 'treatment-verification',
  [Topics.TreatmentsRejected]: 'treatment-verification',
  [Topics.LedgerAnchored]: 'ledger-anchoring',
  [Topics.LedgerCheckpoints]: 'ledger-anchoring',
  [Topics.ContractsPublished]: 'payout',
  [Topics.ContractsStates]: 'payout',
  [Topics.ClaimsAdjudicated]: 'payout',
  [Topics.PayoutsReleased]: 'payout',
  [Topics.ClaimsPended]: 'payout',
  [Topics.PayoutsSettled]: 'payout',
  [Topics.PayoutsFailed]: 'payout',
  [Topics.PayoutsRetried]: 'payout',
  [Topics.PoliciesEnrolled]: 'payout',
  [Topics.PayoutsCancellationDecided]: 'payout',
  [Topics.TreatmentsWithdrawalRequested]: 'treatment-verification',
  [Topics.PayoutsWithdrawalDecided]: 'payout',
} as const satisfies Record<TopicName, EventProducer>;

export function ownerOf(topic: TopicName): EventProducer {
  return TopicOwners[topic];
}

/** The topics a service produces. */
export function topicsOwnedBy(producer: EventProducer): TopicName[] {
  return (Object.keys(TopicOwners) as TopicName[]).filter((t) => TopicOwners[t] === producer);
}
