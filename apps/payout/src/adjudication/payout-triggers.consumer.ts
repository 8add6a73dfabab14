import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  ClaimCancelledV1,
  ClaimSubmittedV1,
  CloudEvent,
  EventCatalog,
  Anchor,
  AnchoredEntry,
  anchorsOf,
  LedgerAnchoredV2,
  Topics,
  TreatmentVerifiedV1,
  claimIdOf,
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
 * Of a notice's entries, what payout acts on: the anchors of verifications and of claims' submissions (a claim is
 * paid only once its own submission is on the ledger too, ADR 18), and the salts of the decision leaves replay proves
 * (ADR 16). The rest of the ledger's entries never reach a statement.
 */
export function isPayoutAnchor(entry: AnchoredEntry): boolean {
  if (entry.eventType === TYPE.verified || entry.eventType === TYPE.submitted) return true;
  return entry.eventType === ADJUDICATED && entry.dataSalt !== undefined;
}

/** A notice with nothing payout acts on (only contracts' or payments' leaves, say) never reaches a transaction. */
export function isPayoutTrigger(event: CloudEvent): boolean {
  if (event.type !== TYPE.anchored) return true;
  return (event.data as LedgerAnchoredV2).entries.some(isPayoutAnchor);
}

const TRIGGERS: HandlerExtras = { batch: true, accepts: isPayoutTrigger };

/**
 * Collects the claim, its verification, and the anchors of both (three topics, any order); whichever arrives last
 * triggers adjudication. A cancellation is answered (`payouts.cancellation-decided.v1`): stopped if it arrives
 * before the claim is decided for payment, refused after (DecideCancellationService, ADR 16); so is a provider's
 * withdrawal of its verification (`payouts.withdrawal-decided.v1`): stopped before the claim is decided or pended,
 * refused after (DecideWithdrawalService, ADR 22).
 *
 * Batched (ADR 8): every new event of the five topics that arrives together is handled in one transaction. The
 * batch's claims are locked first, in one order, then all its facts are recorded, then each claim the batch touched
 * is tried once. Facts are order-free (a claim is adjudicated only once all three are in), so the order of topics
 * within a batch does not matter; a cancellation or a withdrawal in the same batch as a claim's last fact wins.
 *
 * One `ledger.anchored.v2` notice covers every event of a checkpoint, so many claims (ADR 23): a claim that fails
 * for a reason of its own (an anchor that does not prove itself, no contract) is held (`held_claims`, an ALERT,
 * `claimchain_payout_claims_held`) and the batch's other claims are decided and committed; only a failure of the
 * whole batch (the breaker, the database) fails it.
 */
@Controller()
export class PayoutTriggersConsumer {
  private readonly logger = new Logger(PayoutTriggersConsumer.name);

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
    const salts: Anchor[] = [];
    const touched = new Set<string>();
    const facts = {
      claims: [] as CloudEvent<ClaimSubmittedV1>[],
      verifications: [] as CloudEvent<TreatmentVerifiedV1>[],
      anchors: [] as Anchor[],
    };
    const cancellations: CloudEvent<ClaimCancelledV1>[] = [];
    const withdrawals: CloudEvent<TreatmentWithdrawalRequestedV1>[] = [];
    for (const event of events) {
      if (event.type === TYPE.anchored) {
        for (const anchor of anchorsOf(event.data as LedgerAnchoredV2)) {
          if (!isPayoutAnchor(anchor)) continue;
          // The salts of submissions and decisions are kept for `npm run replay`; a decision's anchor is nothing more.
          if (anchor.eventType !== TYPE.verified) salts.push(anchor);
          if (anchor.eventType === ADJUDICATED) continue;
          facts.anchors.push(anchor);
          touched.add(anchor.eventSubject);
        }
        continue;
      }
      touched.add(claimIdOf(event));
      if (event.type === TYPE.submitted) facts.claims.push(event as CloudEvent<ClaimSubmittedV1>);
      else if (event.type === TYPE.verified) facts.verifications.push(event as CloudEvent<TreatmentVerifiedV1>);
      else if (event.type === TYPE.cancelled) cancellations.push(event as CloudEvent<ClaimCancelledV1>);
      else if (event.type === TYPE.withdrawn) withdrawals.push(event as CloudEvent<TreatmentWithdrawalRequestedV1>);
    }
    await this.repo.rememberSalts(em, salts);
    const claimIds = [...touched].sort();
    await this.repo.lockClaims(em, claimIds);
    // Before adjudication: a cancellation or withdrawal in the same batch as a claim's last fact stops it (and a
    // withdrawn verification in the same batch is never stored).
    await this.cancellations.decide(em, cancellations);
    await this.withdrawals.decide(em, withdrawals);
    await this.repo.rememberFacts(em, facts);
    const held = await this.adjudication.tryAdjudicateMany(em, claimIds, { isolate: true });
    for (const { claimId, reason } of held) {
      this.logger.error(`ALERT: claim ${claimId} held, not decided: ${reason}`);
    }
    await this.repo.holdClaims(em, held);
  }
}
