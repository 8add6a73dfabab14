import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  ClaimAdjudicatedV1,
  CloudEvent,
  EventCatalog,
  Anchor,
  anchorsOf,
  LedgerAnchoredV2,
  PayoutCancellationDecidedV1,
  PayoutFailedV1,
  PayoutReleasedV1,
  PayoutRetriedV1,
  PayoutSettledV1,
  TopicName,
  Topics,
  claimIdOf,
} from '@claimchain/wire';
import { EventContext, HandlerExtras } from '@claimchain/messaging';
import { Registry } from 'prom-client';
import { validate as isUuid } from 'uuid';
import { ClaimAdvance, ClaimAnchor, ClaimsRepository } from '../claims.repository';
import { ClaimFlowMetrics } from './claim-flow.metrics';

const typeOf = (topic: TopicName) => EventCatalog[topic].type;
const ANCHORED = typeOf(Topics.LedgerAnchored);
const SETTLED = typeOf(Topics.PayoutsSettled);

/**
 * The downstream topics that move a claim's status, and the ledger's anchors for its timeline. A provider's
 * withdrawal of its verification and payout's answer (ADR 22) are in the timeline only: a stopped one leaves the
 * claim `verified` (or `pended`, when payout set its pended decision aside, ADR 25) until the correction decides it,
 * a refused one changes nothing.
 */
export const TRACKED_TOPICS = [
  Topics.TreatmentsVerified,
  Topics.TreatmentsRejected,
  Topics.ClaimsAdjudicated,
  Topics.ClaimsPended,
  Topics.PayoutsReleased,
  Topics.PayoutsSettled,
  Topics.PayoutsFailed,
  Topics.PayoutsRetried,
  Topics.PayoutsCancellationDecided,
  Topics.TreatmentsWithdrawalRequested,
  Topics.PayoutsWithdrawalDecided,
  Topics.LedgerAnchored,
] as const;

/**
 * Anchors for other aggregates (contracts) share the notices; only claims (uuids) have a timeline here, so a notice
 * with no claim's entry never reaches a transaction.
 */
const TRACKED: HandlerExtras = {
  batch: true,
  accepts: (event) =>
    event.type === ANCHORED
      ? (event.data as LedgerAnchoredV2).entries.some((e) => isUuid(e.eventSubject))
      : isUuid(event.subject),
};

/**
 * Keeps the status and timeline read model current from the downstream events. Batched (ADR 8): every new event
 * of these topics that arrives together is applied in one transaction, written with one statement for the timeline
 * and one for the anchors; the inbox in the same transaction means a redelivered event changes nothing twice.
 * Status changes are rank-ordered (a later status never goes back), so they commute across topics.
 *
 * One `ledger.anchored.v2` notice covers many claims (ADR 23); its entries are taken for the claims this service
 * knows (others are not ours) and written as each claim's receipt in one statement. Nothing in that write is one
 * claim's to refuse (entries are validated with the notice; a receipt is replaced by a later one of the same event),
 * and should one entry still be refused by the database, ClaimsRepository.recordAnchors writes the others without it.
 */
@Controller()
export class ClaimStatusConsumer {
  constructor(
    private readonly claims: ClaimsRepository,
    private readonly metrics: ClaimFlowMetrics = new ClaimFlowMetrics(new Registry()),
  ) {}

  @EventPattern([...TRACKED_TOPICS], TRACKED)
  async track(@Payload() events: CloudEvent[], @Ctx() ctx: EventContext): Promise<void> {
    const em = ctx.em;
    const entries: Anchor[] = [];
    const others: CloudEvent[] = [];
    for (const event of events) {
      if (event.type === ANCHORED) {
        for (const a of anchorsOf(event.data as LedgerAnchoredV2)) if (isUuid(a.eventSubject)) entries.push(a);
      } else others.push(event);
    }
    const claimIds = new Set([...others.map(claimIdOf), ...entries.map((a) => a.eventSubject)]);
    const known = await this.claims.lockExisting(em, [...claimIds]);
    const anchors = entries.filter((a) => known.has(a.eventSubject)).map(anchorOf);
    const facts = others.filter((e) => known.has(claimIdOf(e)));
    await this.claims.recordEvents(em, facts);
    await this.claims.recordAnchors(em, anchors);
    const advances: ClaimAdvance[] = [];
    const payments: PaymentState[] = [];
    for (const event of facts) {
      const advance = advanceOf(event);
      if (advance) advances.push(advance);
      else {
        const payment = paymentOf(event);
        if (payment) {
          payments.push(payment);
          if (event.type === SETTLED) this.metrics.paid(em, known.get(payment.claimId)!, payment.at);
        }
      }
    }
    // Advances first, then payment events, which may replace a `paid` with a later failure: one statement each.
    await this.claims.advanceMany(em, advances);
    await this.claims.setPaymentStates(em, payments);
  }
}

type PaymentState = Parameters<ClaimsRepository['setPaymentStates']>[1][number];

/** What a payment event says of its claim's payment, which has rules of its own (setPaymentStates). */
function paymentOf(event: CloudEvent): PaymentState | undefined {
  const claimId = claimIdOf(event);
  switch (event.type) {
    // Settlement by the payment rail: `paid`, the only event that says the money moved.
    case typeOf(Topics.PayoutsSettled): {
      const d = event.data as PayoutSettledV1;
      return { claimId, status: 'paid', at: new Date(d.settledAt), paid: d.amount };
    }
    // The rail refused the payout on every allowed attempt: nothing was paid, and the insurer must be able to see it.
    case typeOf(Topics.PayoutsFailed):
      return { claimId, status: 'payment-failed', at: new Date((event.data as PayoutFailedV1).failedAt) };
    // Ops put the failed payout back on its rail: it is released for payment again, not paid yet.
    case typeOf(Topics.PayoutsRetried): {
      const d = event.data as PayoutRetriedV1;
      return { claimId, status: 'payment-pending', at: new Date(d.retriedAt), paid: d.amount };
    }
    default:
      return undefined;
  }
}

/** The status an event moves its claim to, or undefined for a payment event (which has rules of its own). */
function advanceOf(event: CloudEvent): ClaimAdvance | undefined {
  const claimId = claimIdOf(event);
  switch (event.type) {
    case typeOf(Topics.TreatmentsVerified):
      return { claimId, status: 'verified' };
    case typeOf(Topics.TreatmentsRejected):
      return { claimId, status: 'verification-rejected' };
    case typeOf(Topics.ClaimsAdjudicated): {
      const d = event.data as ClaimAdjudicatedV1;
      return {
        claimId,
        status: d.decision === 'denied' ? 'denied' : 'adjudicated',
        payable: d.payable,
        decision: d.decision,
      };
    }
    case typeOf(Topics.ClaimsPended):
      return { claimId, status: 'pended', decision: 'pended' };
    // Released for payment: pending until its rail settles it (payouts.settled.v1); `paid` holds the amount released.
    case typeOf(Topics.PayoutsReleased):
      return { claimId, status: 'payment-pending', paid: (event.data as PayoutReleasedV1).amount };
    case typeOf(Topics.PayoutsCancellationDecided):
      return cancellationAnswerOf(claimId, event.data as PayoutCancellationDecidedV1);
    default:
      return undefined;
  }
}

/**
 * Payout's answer to a cancellation (ADR 16). Stopped: the claim is `cancelled`. Refused: payout had decided it
 * already, so the claim shows that decision, and `payment-pending` when a payout was released (the payment events
 * then move it as usual), whether or not the decision's own events were consumed yet.
 */
function cancellationAnswerOf(claimId: string, d: PayoutCancellationDecidedV1): ClaimAdvance {
  if (d.outcome === 'stopped') return { claimId, status: 'cancelled' };
  const decided = { claimId, payable: d.payable, decision: d.decision };
  if (d.payout) return { ...decided, status: 'payment-pending', paid: d.payout.amount };
  return { ...decided, status: d.decision === 'denied' ? 'denied' : 'adjudicated' };
}

function anchorOf(a: Anchor): ClaimAnchor {
  return {
    eventId: a.eventId,
    claimId: a.eventSubject,
    eventType: a.eventType,
    leafIndex: a.leafIndex,
    leafHash: a.leafHash,
    treeSize: a.treeSize,
    inclusionProof: a.inclusionProof,
    checkpoint: a.checkpoint,
    dataSalt: a.dataSalt,
  };
}
