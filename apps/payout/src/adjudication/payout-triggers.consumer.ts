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
} from '@claimchain/contracts';
import { EventContext, HandlerExtras } from '@claimchain/messaging';
import { AdjudicateClaimService } from './adjudicate-claim.service';
import { AdjudicationRepository } from './adjudication.repository';

const TYPE = {
  submitted: EventCatalog[Topics.ClaimsSubmitted].type,
  verified: EventCatalog[Topics.TreatmentsVerified].type,
  cancelled: EventCatalog[Topics.ClaimsCancelled].type,
  anchored: EventCatalog[Topics.LedgerAnchored].type,
};

/**
 * Payout acts only on the anchors of verifications and of claims' submissions (a claim is paid only once its own
 * submission is on the ledger too, ADR 18); the ledger's other notices never reach a transaction.
 */
export function isPayoutTrigger(event: CloudEvent): boolean {
  if (event.type !== TYPE.anchored) return true;
  const anchored = (event.data as LedgerAnchoredV1).eventType;
  return anchored === TYPE.verified || anchored === TYPE.submitted;
}

const TRIGGERS: HandlerExtras = { batch: true, accepts: isPayoutTrigger };

/**
 * Collects the claim, its verification, and the anchors of both (three topics, any order); whichever arrives last
 * triggers adjudication. A cancellation that arrives first stops it.
 *
 * Batched (ADR 8): every new event of the four topics that arrives together is handled in one transaction. The
 * batch's claims are locked first, in one order, then all its facts are recorded, then each claim the batch touched
 * is tried once. Facts are order-free (a claim is adjudicated only once all three are in), so the order of topics
 * within a batch does not matter; a cancellation in the same batch as a claim's last fact wins.
 */
@Controller()
export class PayoutTriggersConsumer {
  constructor(
    private readonly repo: AdjudicationRepository,
    private readonly adjudication: AdjudicateClaimService,
  ) {}

  @EventPattern(
    [Topics.ClaimsSubmitted, Topics.TreatmentsVerified, Topics.ClaimsCancelled, Topics.LedgerAnchored],
    TRIGGERS,
  )
  async record(@Payload() events: CloudEvent[], @Ctx() ctx: EventContext): Promise<void> {
    const em = ctx.em;
    const touched = new Set<string>();
    for (const event of events) touched.add(claimIdOf(event));
    const claimIds = [...touched].sort();
    await this.repo.lockClaims(em, claimIds);
    const facts = {
      claims: [] as CloudEvent<ClaimSubmittedV1>[],
      verifications: [] as CloudEvent<TreatmentVerifiedV1>[],
      anchors: [] as LedgerAnchoredV1[],
    };
    for (const event of events) {
      if (event.type === TYPE.submitted) facts.claims.push(event as CloudEvent<ClaimSubmittedV1>);
      else if (event.type === TYPE.verified) facts.verifications.push(event as CloudEvent<TreatmentVerifiedV1>);
      else if (event.type === TYPE.anchored) facts.anchors.push(event.data as LedgerAnchoredV1);
      else if (event.type === TYPE.cancelled) {
        await this.repo.rememberCancellation(em, event as CloudEvent<ClaimCancelledV1>);
      }
    }
    await this.repo.rememberFacts(em, facts);
    await this.adjudication.tryAdjudicateMany(em, claimIds);
  }
}

/** The claim an event is about: the subject, except for an anchor, whose subject is the anchored event's. */
function claimIdOf(event: CloudEvent): string {
  return event.type === TYPE.anchored ? (event.data as LedgerAnchoredV1).eventSubject : event.subject;
}
