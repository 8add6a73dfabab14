import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError, oncePerKey, Principal, StoredResponse } from '@claimchain/http';
import { AdjudicationPool } from '../../adjudication-pool/adjudication.pool';
import {
  AdjudicateClaimService,
  toAdjudicationInput,
  unverifiedLinesOf,
} from '../../adjudication/adjudicate-claim.service';
import { AdjudicationRepository } from '../../adjudication/adjudication.repository';
import { ContractRepository } from '../../contracts/contract.repository';
import { activeOn } from '../../contracts/contract-state';
import { periodOf } from '../../contracts/contract.mapper';
import { PolicyRepository } from '../../policies/policy.repository';
import { PendedClaimRow, ReviewRepository } from '../review.repository';
import {
  Adjudication,
  ClaimToAdjudicate,
  deniedUnrun,
  PolicyContext,
  ReviewOutcome,
  unrunReasonOf,
} from '../../engine/adjudicate';
import { LedgerCircuitBreakerService, LedgerCircuitOpenError } from '../../ledger-trust/ledger-circuit-breaker.service';
import { DecideReviewRequest } from './decide-review.request';

export interface ReviewDecisionDto {
  claimId: string;
  decision: 'approved' | 'partial' | 'denied';
  payable: string;
  currency: string;
}

/**
 * A reviewer decides a pended claim once: the contract adjudicates it again with the pend reasons settled by that
 * decision, against the policy's accumulators as they are now (under the policy lock), and the outcome is paid and
 * announced exactly like an automatic one, carrying the reviewer and reason so the ledger records them. A claim
 * the insurer cancelled while it was pended is never paid (the cancellation takes the same claim lock), nor one
 * whose provider withdrew the verification it was pended on (ADR 25: set aside, it awaits the correction). While the
 * ledger circuit breaker is open nothing is decided (503 `REVIEW.PAYMENTS_STOPPED`): a review pays like any decision.
 */
@Injectable()
export class DecideReviewService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly reviews: ReviewRepository,
    private readonly claims: AdjudicationRepository,
    private readonly contracts: ContractRepository,
    private readonly policies: PolicyRepository,
    private readonly adjudication: AdjudicateClaimService,
    private readonly ledger: LedgerCircuitBreakerService,
    private readonly pool: AdjudicationPool,
  ) {}

  async decide(
    claimId: string,
    request: DecideReviewRequest,
    caller: Principal,
    idempotencyKey: string,
  ): Promise<StoredResponse<ReviewDecisionDto>> {
    return this.dataSource.transaction((em) =>
      oncePerKey(em, `${caller.tenant}:decide-review`, idempotencyKey, { claimId, request }, async () => ({
        status: 200,
        body: await this.apply(em, claimId, request, caller),
      })),
    );
  }

  private async apply(
    em: EntityManager,
    claimId: string,
    request: DecideReviewRequest,
    caller: Principal,
  ): Promise<ReviewDecisionDto> {
    await this.claims.lockClaim(em, claimId);
    await this.ledger.assertOpenForPayment(em).catch((error: unknown) => {
      if (!(error instanceof LedgerCircuitOpenError)) throw error;
      throw new DomainError('REVIEW.PAYMENTS_STOPPED', 'unavailable', error.message, [], 60);
    });
    const pended = await this.reviews.pendedClaim(em, claimId);
    if (!pended && (await this.reviews.awaitsCorrection(em, claimId, caller.tenant))) {
      throw new DomainError(
        'REVIEW.VERIFICATION_WITHDRAWN',
        'conflict',
        `The provider withdrew the verification claim ${claimId} was pended on; it is decided again on the ` +
          'provider’s correction',
      );
    }
    if (!pended || pended.insurerId !== caller.tenant) {
      throw new DomainError('REVIEW.NOT_FOUND', 'not-found', `No pended claim ${claimId}`);
    }
    if (pended.decided) {
      throw new DomainError('REVIEW.ALREADY_DECIDED', 'conflict', `Claim ${claimId} was already decided`);
    }
    if (pended.cancelled) {
      throw new DomainError('REVIEW.CLAIM_CANCELLED', 'conflict', `Claim ${claimId} was cancelled while pended`);
    }
    const policy = pended.policyId ? await this.policies.findPolicy(em, pended.policyId) : undefined;
    const coverage = policy ? await this.adjudication.lockCoverage(em, policy) : null;
    // What the verification said: its unverified lines are denied again, and a missing attestation the contract
    // requires is what the reviewer settles (ADR 26). Read from the verification itself, which the automatic path
    // decided on too; a pended decision recorded it only from ADR 27 on when its contract did not run.
    const { verification } = pended;
    const claim = verification
      ? toAdjudicationInput(
          pended.claim,
          unverifiedLinesOf(pended.claim.items, verification),
          verification.attestationHash === undefined,
        )
      : toAdjudicationInput(pended.claim, pended.result.unverified, pended.result.unattested);
    const review: ReviewOutcome =
      request.decision === 'approve' ? { decision: 'approve' } : { decision: 'deny', code: request.denialCode };
    // The algorithm the claim was pended by: the review settles that decision, under the same rules.
    const algorithm = pended.result.algorithm;
    // A claim pended without its contract running had every line pended: a denial denies them all and runs
    // nothing, so a contract not in force, or one that never finishes in time, does not keep the claim undecidable.
    const unrun = unrunReasonOf(pended.result);
    const result =
      unrun && review.decision === 'deny'
        ? deniedUnrun(claim, coverage, unrun, review.code, algorithm)
        : await this.runContract(em, claimId, pended, claim, coverage, review, caller);
    if (result.decision === 'pended') throw new Error(`claim ${claimId} still pended after review`);
    await this.reviews.insertReviewDecision(em, {
      claimId,
      decision: request.decision,
      reason: request.reason,
      reviewer: caller.subject,
      result,
    });
    await this.adjudication.settle(em, {
      claimId,
      claim: pended.claim,
      contractId: pended.contractId,
      verifiedEventId: pended.result.verifiedEventId,
      policy: coverage?.policy ?? null,
      result,
      review: { reviewer: caller.subject, reason: request.reason },
    });
    return { claimId, decision: result.decision, payable: result.payable, currency: result.currency };
  }

  /** Runs the claim's contract again with the review's outcome, on the worker pool as every decision (ADR 17). */
  private async runContract(
    em: EntityManager,
    claimId: string,
    pended: PendedClaimRow,
    claim: ClaimToAdjudicate,
    coverage: PolicyContext | null,
    review: ReviewOutcome,
    caller: Principal,
  ): Promise<Adjudication> {
    const contract = (await this.contracts.findContract(em, pended.contractId, caller.tenant))!;
    // An approval runs the contract again (it prices the lines), so the contract must be in force on the claim's
    // service dates (ADR 21). Until then the claim stays pended; the insurer may deny or cancel it.
    if (
      !activeOn(
        periodOf(contract),
        pended.claim.items.map((i) => i.servicedDate),
      )
    ) {
      throw new DomainError(
        'REVIEW.CONTRACT_NOT_ACTIVE',
        'conflict',
        `Contract ${pended.contractId} is not in force on the service dates of claim ${claimId}: it decides nothing`,
      );
    }
    // A contract that cannot decide the claim in time leaves it pended: the reviewer is told so (503, retriable: the
    // timeout may have been load), nothing changes.
    const outcome = await this.pool.adjudicate({
      contractId: pended.contractId,
      contract: contract.definition,
      claim,
      coverage,
      review,
      algorithm: pended.result.algorithm,
    });
    if ('refused' in outcome) throw new Error(outcome.refused);
    if ('unrun' in outcome) {
      throw new DomainError(
        'REVIEW.CONTRACT_NOT_RUN',
        'unavailable',
        `Contract ${pended.contractId} could not decide claim ${claimId} (${outcome.unrun}); it stays pended`,
        [],
        60,
      );
    }
    return outcome.result;
  }
}
