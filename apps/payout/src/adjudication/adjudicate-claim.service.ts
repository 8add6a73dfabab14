import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { Topics } from '@claimchain/contracts';
import { leafHashOfEvent } from '@claimchain/ledger';
import { OutboxWriter, PermanentEventError } from '@claimchain/messaging';
import { contractIdOf } from '../contracts/contract.definition';
import { choosePolicy, PolicyTerms } from '../policies/plan-year';
import { PayoutRepository, PendingClaim } from '../persistence/payout.repository';
import { Accumulators, Adjudication, adjudicate, ClaimToAdjudicate, PolicyContext } from './adjudicate';
import { resultHashOf } from './replay';
import { LedgerCircuitBreakerService } from '../ledger-trust/ledger-circuit-breaker.service';

export const PAYOUT_SOURCE = 'claimchain/payout';

/**
 * Adjudicates and pays a claim once its three facts are in: the claim, its treatment verification, and the
 * ledger's word that a signed checkpoint covers that verification. Runs in the caller's inbox transaction under
 * the claim's lock; the primary keys on adjudications and payouts make a second payout impossible even so. Nothing
 * is paid unless the ledger checks out (LedgerCircuitBreakerService).
 *
 * The contract is the one of the policy enrolled for the claim's coverage (the insurer's own); without a policy,
 * the insurer's newest contract, else the demo contract. Under a policy the adjudication, its payout and the new
 * plan-year accumulators commit together while the policy row is locked, so claims on one policy are serialised.
 */
@Injectable()
export class AdjudicateClaimService {
  constructor(
    private readonly repo: PayoutRepository,
    private readonly outbox: OutboxWriter,
    private readonly ledger: LedgerCircuitBreakerService,
  ) {}

  async tryAdjudicate(em: EntityManager, claimId: string): Promise<void> {
    const pending = await this.repo.pending(em, claimId);
    if (!pending) return;
    const { claim, verification, anchor } = pending;
    // The anchor must commit to exactly the verification we hold; otherwise the ledger and our copy disagree.
    const expected = leafHashOfEvent(verification).toString('base64');
    if (expected !== anchor.leaf_hash) {
      await this.ledger.trip(`ledger leaf ${anchor.leaf_index} does not commit to verification ${verification.id}`);
    }
    await this.ledger.assertTrusted(em, {
      leafHash: anchor.leaf_hash,
      leafIndex: Number(anchor.leaf_index),
      treeSize: Number(anchor.tree_size),
      rootHash: anchor.root_hash,
      inclusionProof: anchor.inclusion_proof,
      checkpoint: anchor.checkpoint,
    });

    const firstServiceDate = claim.items.map((i) => i.servicedDate).sort()[0];
    const policies = claim.coverage ? await this.repo.policiesForCoverage(em, claim.insurer_id, claim.coverage) : [];
    const policy = choosePolicy(policies, firstServiceDate);
    const coverage = policy ? await this.lockCoverage(em, policy) : null;
    const contract = policy
      ? await this.repo.findContract(em, policy.contractId, claim.insurer_id)
      : await this.repo.contractFor(em, claim.insurer_id);
    if (!contract) throw new Error(`no contract in force for insurer ${claim.insurer_id}`);
    const contractId = contractIdOf(contract.definition);
    if (contractId !== contract.id) {
      throw new PermanentEventError(`contract ${contract.id} does not hash to its id; refusing to pay by it`);
    }
    const result = await adjudicate(contract.definition, toAdjudicationInput(claim), coverage);
    await this.repo.insertAdjudication(em, {
      claimId,
      contractId,
      policyId: result.policyId,
      decision: result.decision,
      payable: result.payable,
      result: { contractId, verifiedEventId: verification.id, ...result },
    });
    await this.settle(em, {
      claimId,
      claim,
      contractId,
      verifiedEventId: verification.id,
      policy: coverage?.policy ?? null,
      result,
    });
  }

  /** Locks the policy (held until commit) and reads its accumulators: claims on one policy run one at a time. */
  async lockCoverage(em: EntityManager, policy: PolicyTerms): Promise<PolicyContext> {
    await this.repo.lockPolicy(em, policy.id);
    const rows = await this.repo.accumulators(em, policy.id);
    const accumulators: Accumulators = Object.fromEntries(
      rows.map((r) => [r.planYear, { deductibleMet: r.deductibleMet, benefitPaid: r.benefitPaid }]),
    );
    const { id, contractId, memberPseudonym, start, end } = policy;
    return { policy: { id, contractId, memberPseudonym, start, end }, accumulators };
  }

  /**
   * Everything a decision changes, in the caller's transaction: the policy's accumulators, the events announcing
   * it (claims.pended.v1, or claims.adjudicated.v1 and, when something is payable, the payout and
   * payouts.released.v1).
   */
  async settle(
    em: EntityManager,
    s: {
      claimId: string;
      claim: PendingClaim['claim'];
      contractId: string;
      verifiedEventId: string;
      policy: PolicyTerms | null;
      result: Adjudication;
      review?: { reviewer: string; reason: string };
    },
  ): Promise<void> {
    const { claimId, claim, contractId, verifiedEventId, result } = s;
    const policyId = result.policyId;
    if (policyId && result.decision !== 'pended') {
      await this.repo.saveAccumulators(em, policyId, result.accumulators.after);
    }
    const now = new Date();
    const common = {
      source: PAYOUT_SOURCE,
      subject: claimId,
      tenantid: claim.insurer_id,
      time: now,
      causationid: verifiedEventId,
    };
    if (result.decision === 'pended') {
      await this.outbox.add(em, Topics.ClaimsPended, {
        ...common,
        data: {
          claimId,
          contractId,
          policyId,
          verifiedEventId,
          lines: result.lines
            .filter((l) => l.status === 'pended')
            .map((l) => ({
              sequence: l.sequence,
              system: l.system,
              code: l.code,
              reasons: l.reasons,
              pendReasons: l.pendReasons,
            })),
          pendedAt: now.toISOString(),
        },
      });
      return;
    }
    await this.outbox.add(em, Topics.ClaimsAdjudicated, {
      ...common,
      data: {
        claimId,
        contractId,
        policyId,
        verifiedEventId,
        decision: result.decision,
        ...(s.review && result.review ? { review: { ...s.review, outcome: result.review } } : {}),
        replay: {
          algorithm: result.algorithm,
          policy: s.policy
            ? { id: s.policy.id, memberPseudonym: s.policy.memberPseudonym, start: s.policy.start, end: s.policy.end }
            : null,
          accumulatorsBefore: result.accumulators.before,
          resultHash: resultHashOf(result),
        },
        currency: claim.currency,
        submitted: result.submitted,
        payable: result.payable,
        lines: result.lines.map((l) => ({
          sequence: l.sequence,
          system: l.system,
          code: l.code,
          submitted: l.submitted,
          eligible: l.eligible,
          deductible: l.deductible,
          coinsurance: l.coinsurance,
          benefit: l.benefit,
          reasons: l.reasons,
        })),
        adjudicatedAt: now.toISOString(),
      },
    });
    if (result.payable === '0.00') return;
    const payoutId = uuidv7();
    await this.repo.insertPayout(em, {
      id: payoutId,
      claimId,
      payeeId: claim.provider_id,
      amount: result.payable,
      currency: claim.currency,
    });
    await this.outbox.add(em, Topics.PayoutsReleased, {
      ...common,
      data: {
        claimId,
        payoutId,
        contractId,
        payeeId: claim.provider_id,
        amount: result.payable,
        currency: claim.currency,
        releasedAt: now.toISOString(),
      },
    });
  }
}

export function toAdjudicationInput(claim: PendingClaim['claim']): ClaimToAdjudicate {
  return {
    providerId: claim.provider_id,
    currency: claim.currency,
    patientPseudonym: claim.patient_pseudonym,
    items: claim.items,
  };
}
