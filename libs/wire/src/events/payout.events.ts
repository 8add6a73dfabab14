import { z } from 'zod';
import { CodingRef, CurrencyCode, IsoDate, MoneyAmount } from '../money';

/** A contract became available for adjudication; its id is the SHA-256 of its canonical JSON. */
export const ContractPublishedV1 = z.object({
  contractId: z.string().regex(/^[0-9a-f]{64}$/),
  insurerId: z.string().min(1),
  name: z.string().min(1),
  version: z.string().min(1),
  definition: z.record(z.unknown()),
  publishedAt: z.string().datetime({ offset: true }),
});
export type ContractPublishedV1 = z.infer<typeof ContractPublishedV1>;

/**
 * A contract's lifecycle changed (ADR 21): `drafted` (published by `POST /v2/contracts`, used for no claim),
 * `activated` (decides claims served from `effectiveFrom`; a v1 publish is activated from 0001-01-01) or `retired`
 * (decides no claim served from `retiredFrom`). Each event carries the whole period after the change, so the ledger
 * proves which contract was in force on any date.
 */
export const ContractStateChangedV1 = z.object({
  contractId: z.string().regex(/^[0-9a-f]{64}$/),
  insurerId: z.string().min(1),
  change: z.enum(['drafted', 'activated', 'retired']),
  effectiveFrom: IsoDate.nullable(),
  retiredFrom: IsoDate.nullable(),
  changedAt: z.string().datetime({ offset: true }),
});
export type ContractStateChangedV1 = z.infer<typeof ContractStateChangedV1>;

export const AdjudicationDecision = z.enum(['approved', 'partial', 'denied']);

/**
 * The contract's final decision on a claim (a pended claim is announced by ClaimPendedV1 and adjudicated once
 * reviewed). Line amounts beyond `benefit` and the policy are optional so v1 consumers and events stay valid.
 */
export const ClaimAdjudicatedV1 = z.object({
  claimId: z.string().uuid(),
  contractId: z.string().regex(/^[0-9a-f]{64}$/),
  policyId: z.string().uuid().nullable().optional(),
  verifiedEventId: z.string().uuid(),
  decision: AdjudicationDecision,
  /** Set when a reviewer decided a pended claim: who, why, and what (approve, or deny with a CARC-style code). */
  review: z
    .object({
      reviewer: z.string().min(1),
      reason: z.string().min(1),
      outcome: z.discriminatedUnion('decision', [
        z.object({ decision: z.literal('approve') }),
        z.object({ decision: z.literal('deny'), code: z.string().min(1) }),
      ]),
    })
    .optional(),
  /**
   * What a replay needs beside the claim.submitted and contract.published events: the policy terms and plan-year
   * accumulators the decision started from, and the SHA-256 (hex) of the RFC 8785 JSON of the full result.
   */
  replay: z
    .object({
      algorithm: z.string().min(1),
      policy: z
        .object({
          id: z.string().uuid(),
          memberPseudonym: z.string().nullable(),
          start: IsoDate,
          end: IsoDate,
        })
        .nullable(),
      accumulatorsBefore: z.record(IsoDate, z.object({ deductibleMet: MoneyAmount, benefitPaid: MoneyAmount })),
      /**
       * The claim lines the treatment verification did not verify, with its reason codes: denied before anything
       * else (CO-112, CO-151). Added within v1 (2026-12-05, ADR 19); absent when every line was verified, as in
       * every decision before it.
       */
      unverified: z
        .array(z.object({ sequence: z.number().int().positive(), code: z.string().min(1) }))
        .min(1)
        .optional(),
      /**
       * The verification carried no signed attestation and the contract requires one, so its lines were pended
       * (`attestation-missing`) and a reviewer decided them. Added within v1 (2026-12-06, ADR 26); absent otherwise.
       */
      unattested: z.literal(true).optional(),
      /**
       * A reviewer denied a claim pended without its contract running (not in force, too slow, failed, too many
       * lines), so every line was denied without running it either; why it had not run. Added within v1
       * (2026-12-06); absent otherwise.
       */
      unrun: z
        .enum(['contract-timeout', 'contract-failed', 'claim-lines-over-limit', 'contract-not-active'])
        .optional(),
      resultHash: z.string().regex(/^[0-9a-f]{64}$/),
    })
    .optional(),
  currency: CurrencyCode,
  submitted: MoneyAmount,
  payable: MoneyAmount,
  lines: z.array(
    CodingRef.extend({
      sequence: z.number().int().positive(),
      submitted: MoneyAmount,
      eligible: MoneyAmount.optional(),
      deductible: MoneyAmount.optional(),
      coinsurance: MoneyAmount.optional(),
      benefit: MoneyAmount,
      reasons: z.array(z.string()),
    }),
  ),
  adjudicatedAt: z.string().datetime({ offset: true }),
});
export type ClaimAdjudicatedV1 = z.infer<typeof ClaimAdjudicatedV1>;

/** The contract sent the claim to human review (CO-133 on the pended lines); nothing is paid until it is decided. */
/**
 * The pend reason of a line whose contract requires the provider's signed attestation when the verification carried
 * none (ADR 26): stable on `claims.pended.v1`, and the one pend its provider can act on.
 */
export const PEND_REASON_ATTESTATION_MISSING = 'attestation-missing';

export const ClaimPendedV1 = z.object({
  claimId: z.string().uuid(),
  contractId: z.string().regex(/^[0-9a-f]{64}$/),
  policyId: z.string().uuid().nullable(),
  verifiedEventId: z.string().uuid(),
  /**
   * The provider's confirmation whose verification the claim was pended on, so treatment-verification can tell the
   * provider what it can do (a missing attestation, ADR 26). Added within v1 (2026-12-06); absent before.
   */
  confirmationId: z.string().uuid().optional(),
  lines: z
    .array(
      CodingRef.extend({
        sequence: z.number().int().positive(),
        reasons: z.array(z.string()),
        pendReasons: z.array(z.string()),
      }),
    )
    .min(1),
  pendedAt: z.string().datetime({ offset: true }),
});
export type ClaimPendedV1 = z.infer<typeof ClaimPendedV1>;

export const PayoutReleasedV1 = z.object({
  claimId: z.string().uuid(),
  payoutId: z.string().uuid(),
  contractId: z.string().regex(/^[0-9a-f]{64}$/),
  payeeId: z.string().min(1),
  amount: MoneyAmount,
  currency: CurrencyCode,
  releasedAt: z.string().datetime({ offset: true }),
});
export type PayoutReleasedV1 = z.infer<typeof PayoutReleasedV1>;

/** The payment rail reported that a released payout's money moved. */
export const PayoutSettledV1 = z.object({
  claimId: z.string().uuid(),
  payoutId: z.string().uuid(),
  rail: z.string().min(1),
  reference: z.string().min(1),
  amount: MoneyAmount,
  currency: CurrencyCode,
  settledAt: z.string().datetime({ offset: true }),
});
export type PayoutSettledV1 = z.infer<typeof PayoutSettledV1>;

/**
 * The payment rail refused a released payout on every attempt the dispatcher is allowed (PAYMENT_MAX_ATTEMPTS):
 * nothing was paid, and nothing will be until ops re-queues it. Ops alert on this topic.
 */
export const PayoutFailedV1 = z.object({
  claimId: z.string().uuid(),
  payoutId: z.string().uuid(),
  rail: z.string().min(1),
  amount: MoneyAmount,
  currency: CurrencyCode,
  attempts: z.number().int().positive(),
  /** The last rail error, e.g. `webhook answered 500`; never the instruction or the insurer's secret. */
  lastError: z.string().max(1000),
  failedAt: z.string().datetime({ offset: true }),
});
export type PayoutFailedV1 = z.infer<typeof PayoutFailedV1>;

/**
 * Ops put a failed payout back into the retry schedule (`POST /v1/ops/payouts/:id/retry`): its attempts start
 * again from zero on the rail it was on. Recorded on the ledger so the intervention is as provable as the payment;
 * `reason` and `retriedBy` are what ops typed and who they are, never patient data.
 */
export const PayoutRetriedV1 = z.object({
  claimId: z.string().uuid(),
  payoutId: z.string().uuid(),
  /** The rail it stays on; null if no rail was ever chosen (the next attempt chooses). */
  rail: z.string().min(1).nullable(),
  amount: MoneyAmount,
  currency: CurrencyCode,
  /** What the failure that is being retried looked like. */
  previousAttempts: z.number().int().nonnegative(),
  previousError: z.string().max(1000).nullable(),
  retriedBy: z.string().min(1),
  reason: z.string().min(1).max(500),
  retriedAt: z.string().datetime({ offset: true }),
});
export type PayoutRetriedV1 = z.infer<typeof PayoutRetriedV1>;

/**
 * Payout's answer to an insurer's cancellation (`claims.cancelled.v1`, a request until this answer), decided under
 * the claim's lock so exactly one of the cancellation and the adjudication wins:
 * - `stopped`: nothing was decided for payment yet (payout may not even have seen the claim, or it is pended for
 *   review); nothing will ever be paid for the claim, which may then be resubmitted.
 * - `refused`: the claim was already decided (`decision`, with `payable`), and, when something is payable, its
 *   payout released (`payout`, with its state then); the decision and any payment stand.
 * Recorded on the ledger: whether a claim could still be paid is money-relevant.
 */
/** A decided claim's payout as it stands when payout refuses to stop it, or null when nothing was payable. */
const StandingPayout = z
  .object({
    payoutId: z.string().uuid(),
    amount: MoneyAmount,
    status: z.enum(['awaiting-rail', 'released', 'sent', 'settled', 'failed']),
  })
  .nullable();

export const PayoutCancellationDecidedV1 = z.discriminatedUnion('outcome', [
  z.object({
    outcome: z.literal('stopped'),
    claimId: z.string().uuid(),
    insurerId: z.string().min(1),
    /** The claims.cancelled.v1 event this answers. */
    cancellationEventId: z.string().uuid(),
    decidedAt: z.string().datetime({ offset: true }),
  }),
  z.object({
    outcome: z.literal('refused'),
    claimId: z.string().uuid(),
    insurerId: z.string().min(1),
    cancellationEventId: z.string().uuid(),
    decidedAt: z.string().datetime({ offset: true }),
    decision: AdjudicationDecision,
    payable: MoneyAmount,
    currency: CurrencyCode,
    payout: StandingPayout,
  }),
]);
export type PayoutCancellationDecidedV1 = z.infer<typeof PayoutCancellationDecidedV1>;

/** What every answer to a provider's withdrawal names. */
const WithdrawalAnswered = {
  claimId: z.string().uuid(),
  insurerId: z.string().min(1),
  providerId: z.string().min(1),
  confirmationId: z.string().uuid(),
  /** The treatments.withdrawal-requested.v1 event this answers. */
  withdrawalEventId: z.string().uuid(),
  decidedAt: z.string().datetime({ offset: true }),
};

/**
 * Payout's answer to a provider's withdrawal of its verification (`treatments.withdrawal-requested.v1`, ADR 22),
 * decided under the claim's lock, as a cancellation is:
 * - `stopped`: payout had not decided the claim, or had pended it for review on this verification and nobody had
 *   reviewed or cancelled it since (`setAside: 'pended'`: that decision is set aside, ADR 25); it forgets that
 *   verification (one arriving later is ignored), and the claim waits for a new verification, which is adjudicated
 *   as if it were the first.
 * - `refused`: the claim was already decided, automatically, or pended and then reviewed or cancelled (`decision`,
 *   with `payable`, and its payout with its state then, if any); the decision and any payment stand.
 * Recorded on the ledger.
 */
export const PayoutWithdrawalDecidedV1 = z.discriminatedUnion('outcome', [
  z.object({
    outcome: z.literal('stopped'),
    ...WithdrawalAnswered,
    /** Present when the claim had been pended for review on this verification: that decision no longer stands. */
    setAside: z.literal('pended').optional(),
  }),
  z.object({
    outcome: z.literal('refused'),
    ...WithdrawalAnswered,
    /** `pended`: pended and cancelled since, or pended on another verification than the one withdrawn. */
    decision: z.enum(['approved', 'partial', 'denied', 'pended']),
    payable: MoneyAmount,
    currency: CurrencyCode,
    payout: StandingPayout,
  }),
]);
export type PayoutWithdrawalDecidedV1 = z.infer<typeof PayoutWithdrawalDecidedV1>;
