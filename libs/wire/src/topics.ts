/**
 * Every Kafka topic the system uses, defined once. Topic names are `<domain>.<event>.v<N>`; each topic carries
 * exactly one CloudEvents `type` so a consumer knows the schema from the topic alone. Dead letters go to
 * `<topic>.dlq` (see dlqTopicOf).
 */
export const Topics = {
  ClaimsSubmitted: 'claims.submitted.v1',
  ClaimsCancelled: 'claims.cancelled.v1',
  TreatmentsVerified: 'treatments.verified.v1',
  TreatmentsRejected: 'treatments.rejected.v1',
  LedgerAnchored: 'ledger.anchored.v2',
  LedgerCheckpoints: 'ledger.checkpoints.v1',
  ContractsPublished: 'contracts.published.v1',
  ContractsStates: 'contracts.states.v1',
  ClaimsAdjudicated: 'claims.adjudicated.v1',
  PayoutsReleased: 'payouts.released.v1',
  ClaimsPended: 'claims.pended.v1',
  PayoutsSettled: 'payouts.settled.v1',
  PayoutsFailed: 'payouts.failed.v1',
  PayoutsRetried: 'payouts.retried.v1',
  PoliciesEnrolled: 'policies.enrolled.v1',
  PayoutsCancellationDecided: 'payouts.cancellation-decided.v1',
  TreatmentsWithdrawalRequested: 'treatments.withdrawal-requested.v1',
  PayoutsWithdrawalDecided: 'payouts.withdrawal-decided.v1',
} as const;

export type TopicName = (typeof Topics)[keyof typeof Topics];

export const ALL_TOPICS: readonly TopicName[] = Object.values(Topics);

/** Partitions per domain topic: events are keyed by claim id, so one claim's events stay in order. */
export const TOPIC_PARTITIONS = 3;
export const DLQ_PARTITIONS = 1;

export function dlqTopicOf(topic: TopicName): string {
  return `${topic}.dlq`;
}

/** Every topic to create, with its partition count: the launcher, tests and the k8s manifests read this list. */
export function topicSpecs(): { topic: string; numPartitions: number }[] {
  return ALL_TOPICS.flatMap((topic) => [
    { topic, numPartitions: TOPIC_PARTITIONS },
    { topic: dlqTopicOf(topic), numPartitions: DLQ_PARTITIONS },
  ]);
}
