import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  ClaimCancelledV1,
  ClaimSubmittedV1,
  CloudEvent,
  EventCatalog,
  LedgerAnchoredV1,
  Topics,
  TreatmentVerifiedV1,
  TreatmentWithdrawalRequestedV1,
} from '@claimchain/wire';
import { EventContext, HandlerExtras } from '@claimchain/messaging';
import { AdjudicateClaimService } from './adjudicate-claim.service';
import { AdjudicationRepository } from './adjudication.repository';
import { DecideCancellationService } from './decide-cancellation.service';
import { DecideWithdrawalService } from './decide-withdrawal.service';

const TYPE = {
  submitted: EventCatalog[Topics.ClaimsSubmitted].type,
  verified: EventCatalog[Topics.TreatmentsVerified].type,
  cancelled: EventCatalog[Topics.ClaimsCancelled].type,
  withdrawn: EventCatalog[Topics.TreatmentsWithdrawalRequested].type,
  anchored: EventCatalog[Topics.LedgerAnchored].type,
};

const ADJUDICATED = EventCatalog[Topics.ClaimsAdjudicated].type;

/**
 * Payout acts on the anchors of verifications and of claims' submissions (a claim is paid only once its own
 * submission is on the ledger too, ADR 18), and keeps the salts of the decision leaves replay proves (ADR 16); the
 * ledger's other notices never reach a transaction.
 */
export function isPayoutTrigger(event: CloudEvent): boolean {
  if (event.type !== TYPE.anchored) return true;
  const anchor = event.data as LedgerAnchoredV1;
  if (anchor.eventType === TYPE.verified || anchor.eventType === TYPE.submitted) return true;
  return anchor.eventType === ADJUDICATED && anchor.dataSalt !== undefined;
}

const TRIGGERS: HandlerExtras = { batch: true, accepts: isPayoutTrigger };

/**
 * Collects the claim, its verification, and the anchors of both (three topics, any order); whichever arrives last
 * triggers adjudication. A cancellation is answered (`payouts.cancellation-decided.v1`): stopped if it arrives
 * before the claim is decided for payment, refused after (DecideCancellationService, ADR 16); so is a provider's
 * withdrawal of its verification (`payouts.withdrawal-decided.v1`): stopped before the claim is decided or pended,
 * refused after (DecideWithdrawalService, ADR 20).
 *
 * Batched (ADR 8): every new event of the five topics that arrives together is handled in one transaction. The
 * batch's claims are locked first, in one order, then all its facts are recorded, then each claim the batch touched
 * is tried once. Facts are order-free (a claim is adjudicated only once all three are in), so the order of topics
 * within a batch does not matter; a cancellation or a withdrawal in the same batch as a claim's last fact wins.
 */
@Controller()
export class PayoutTriggersConsumer {
  constructor(
    private readonly repo: AdjudicationRepository,
    private readonly adjudication: AdjudicateClaimService,
    private readonly cancellations: DecideCancellationService,
    private readonly withdrawals: DecideWithdrawalService,
  ) {}

  @EventPattern(
    [
      Topics.ClaimsSubmitted,
      Topics.TreatmentsVerified,
      Topics.ClaimsCancelled,
      Topics.TreatmentsWithdrawalRequested,
      Topics.LedgerAnchored,
    ],
    TRIGGERS,
  )
  async record(@Payload() events: CloudEvent[], @Ctx() ctx: EventContext): Promise<void> {
    const em = ctx.em;
    const salts: LedgerAnchoredV1[] = [];
    const touched = new Set<string>();
    for (const event of events) {
      const anchored = event.type === TYPE.anchored ? (event.data as LedgerAnchoredV1) : undefined;
      // The salts of submissions and decisions are kept for `npm run replay`; a decision's anchor is nothing more.
      if (anchored && anchored.eventType !== TYPE.verified) salts.push(anchored);
      if (anchored?.eventType !== ADJUDICATED) touched.add(claimIdOf(event));
    }
    await this.repo.rememberSalts(em, salts);
    const claimIds = [...touched].sort();
    await this.repo.lockClaims(em, claimIds);
    const facts = {
      claims: [] as CloudEvent<ClaimSubmittedV1>[],
      verifications: [] as CloudEvent<TreatmentVerifiedV1>[],
      anchors: [] as LedgerAnchoredV1[],
    };
    const cancellations: CloudEvent<ClaimCancelledV1>[] = [];
    const withdrawals: CloudEvent<TreatmentWithdrawalRequestedV1>[] = [];
    for (const event of events) {
      if (event.type === TYPE.submitted) facts.claims.push(event as CloudEvent<ClaimSubmittedV1>);
      else if (event.type === TYPE.verified) facts.verifications.push(event as CloudEvent<TreatmentVerifiedV1>);
      else if (event.type === TYPE.anchored) {
        if ((event.data as LedgerAnchoredV1).eventType !== ADJUDICATED)
          facts.anchors.push(event.data as LedgerAnchoredV1);
      } else if (event.type === TYPE.cancelled) cancellations.push(event as CloudEvent<ClaimCancelledV1>);
      else if (event.type === TYPE.withdrawn) withdrawals.push(event as CloudEvent<TreatmentWithdrawalRequestedV1>);
    }
    // Before adjudication: a cancellation or withdrawal in the same batch as a claim's last fact stops it (and a
    // withdrawn verification in the same batch is never stored).
    await this.cancellations.decide(em, cancellations);
    await this.withdrawals.decide(em, withdrawals);
    await this.repo.rememberFacts(em, facts);
    await this.adjudication.tryAdjudicateMany(em, claimIds);
  }
}

/** The claim an event is about: the subject, except for an anchor, whose subject is the anchored event's. */
function claimIdOf(event: CloudEvent): string {
  return event.type === TYPE.anchored ? (event.data as LedgerAnchoredV1).eventSubject : event.subject;
}
