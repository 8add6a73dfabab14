import { Inject, Injectable } from '@nestjs/common';
import { Registry } from 'prom-client';
import { EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { CloudEvent, TopicName, Topics, TreatmentVerifiedV1 } from '@claimchain/wire';
import { leafHashOfEvent, parseLeafSalt } from '@claimchain/ledger';
import { buildEvent, EventDraft, OutboxWriter, PermanentEventError } from '@claimchain/messaging';
import { PAYOUT_SOURCE } from '../payout.source';
import { CONTRACT_LIMITS } from '../engine/contract.definition';
import { ContractRepository } from '../contracts/contract.repository';
import { activeOn } from '../contracts/contract-state';
import { periodOf } from '../contracts/contract.mapper';
import { choosePolicy, PolicyTerms } from '../engine/plan-year';
import { coverageKey, PolicyRepository } from '../policies/policy.repository';
import { LedgerCircuitBreakerService, UnprovenAnchorError } from '../ledger-trust/ledger-circuit-breaker.service';
import {
  Accumulators,
  Adjudication,
  ClaimToAdjudicate,
  PEND_CONTRACT_NOT_ACTIVE,
  PEND_TOO_MANY_LINES,
  PolicyContext,
  UnverifiedLine,
} from '../engine/adjudicate';
import { AdjudicationPool, decisionOf, PoolJob } from '../adjudication-pool/adjudication.pool';
import {
  AdjudicationRepository,
  AdjudicationRow,
  PayoutRow,
  PendingClaim,
  StoredAnchor,
} from './adjudication.repository';
import { resultHashOf } from '../engine/replay';
import { CONTRACT_SETTINGS, ContractSettings } from '../contracts/contract-settings.module';
import { PayoutMetrics } from '../payout.metrics';

/** A claim that cannot be decided for a reason of its own (no contract in force, a contract that is refused). */
export class ClaimNotDecidableError extends PermanentEventError {}

/**
 * Whether a failure is one claim's own (ADR 23): its anchor does not prove itself, or it cannot be decided. Anything
 * else (the breaker open or tripping, a database failure) concerns the whole batch.
 */
export function isClaimRefusal(error: unknown): error is PermanentEventError {
  return error instanceof UnprovenAnchorError || error instanceof ClaimNotDecidableError;
}

/** A claim held back by its own failure, and why. */
export interface HeldClaim {
  claimId: string;
  reason: string;
}

/**
 * Adjudicates and pays a claim once its three facts are in: the claim, its treatment verification, and the
 * ledger's word that a signed checkpoint covers that verification. Runs in the caller's inbox transaction under
 * the claim's lock; the primary keys on adjudications and payouts make a second payout impossible even so. Nothing
 * is paid unless the ledger checks out (LedgerCircuitBreakerService).
 *
 * The contract is the one of the policy enrolled for the claim's coverage (the insurer's own). Without a policy the
 * claim is decided by the insurer's newest contract (else the demo contract, in development) and, unless the
 * development setting `DEMO_CONTRACT` says otherwise, denied (CO-31): never paid (ADR 11). A contract decides only
 * the claims served while it is in force (ADR 21): a claim whose contract is a draft, or not in force on every one
 * of its service dates, is pended `contract-not-active` without running it. Under a policy the adjudication, its payout and the new
 * plan-year accumulators commit together while the policy row is locked, so claims on one policy are serialised.
 */
@Injectable()
export class AdjudicateClaimService {
  constructor(
    private readonly claims: AdjudicationRepository,
    private readonly contracts: ContractRepository,
    private readonly policies: PolicyRepository,
    private readonly outbox: OutboxWriter,
    private readonly ledger: LedgerCircuitBreakerService,
    @Inject(CONTRACT_SETTINGS) private readonly settings: ContractSettings,
    private readonly pool: AdjudicationPool,
    private readonly metrics: PayoutMetrics = new PayoutMetrics(new Registry()),
  ) {}

  async tryAdjudicate(em: EntityManager, claimId: string): Promise<void> {
    await this.tryAdjudicateMany(em, [claimId]);
  }

  /**
   * Adjudicates every one of these claims whose facts are all in, in the caller's transaction (which holds their
   * locks): their facts in one read, then all their contracts run on the worker pool in one call (ADR 17: a claim
   * whose contract times out is pended, `contract-timeout`), then every decision's rows and events in a few
   * statements for all. Claims on one policy see each other's accumulators: a policy is locked once and its
   * accumulators are carried from one decision to the next (the pool keeps them on one thread, in order).
   *
   * With `isolate`, a claim that fails for a reason of its own (isClaimRefusal) is left undecided and returned with
   * why, and the others are decided (ADR 23: one ledger notice covers many claims, none may be lost to another's
   * failure); without it, it fails the whole call. Any other failure always does.
   */
  async tryAdjudicateMany(
    em: EntityManager,
    claimIds: readonly string[],
    { isolate = false }: { isolate?: boolean } = {},
  ): Promise<HeldClaim[]> {
    const held: HeldClaim[] = [];
    /** A claim's failure: the claim is held when isolating and the failure is its own, else it is thrown. */
    const hold = (claimId: string, error: unknown): void => {
      if (!isolate || !isClaimRefusal(error)) throw error;
      held.push({ claimId, reason: error.message });
    };
    const pending = await this.claims.pendingMany(em, claimIds);
    if (pending.size === 0) return held;
    await this.ledger.assertOpenForPayment(em);
    const decisions = new Decisions();
    const policiesByCoverage = await this.policies.policiesForCoverages(
      em,
      [...pending.values()].flatMap(({ claim }) =>
        claim.coverage ? [{ insurerId: claim.insurer_id, coverageId: claim.coverage }] : [],
      ),
    );
    // Each anchor must commit to exactly the event we hold, and prove it is in a checkpoint the ledger signed: the
    // verification, and the claim's own submission, whose amounts and payee are paid (ADR 18). The leaf commits to
    // the verification's whole data, so to the hash of the provider's signed attestation when it carries one
    // (ADR 15): a verification whose attestation is not the one the ledger recorded (other, or stripped) is refused
    // and alerted, never paid. These checks need no I/O and are each claim's own.
    const proven: [string, PendingClaim][] = [];
    const checkpoints = new Set<string>();
    for (const [claimId, facts] of pending) {
      const { verification, anchor, submitted, submittedAnchor } = facts;
      const attested = verification.data.attestationHash;
      const attestation = attested ? ` with attestation ${attested}` : '';
      try {
        checkpoints.add(this.checkAnchored(verification, anchor, 'verification', attestation));
        checkpoints.add(this.checkAnchored(submitted, submittedAnchor, 'claim submission'));
      } catch (error) {
        hold(claimId, error);
        continue;
      }
      proven.push([claimId, facts]);
    }
    // Then their checkpoints join the one history payout has seen, all in one step (a failure here is the whole
    // batch's: a forked log trips the breaker, a proof that does not verify or a ledger out of reach is retried).
    await this.ledger.placeInHistory(em, checkpoints);
    // The policies of the claims, locked together (in id order) with their accumulators read in one query.
    const policyOf = new Map<string, PolicyTerms>();
    for (const [claimId, { claim }] of proven) {
      const firstServiceDate = claim.items.map((i) => i.servicedDate).sort()[0];
      const policies = claim.coverage
        ? (policiesByCoverage.get(coverageKey(claim.insurer_id, claim.coverage)) ?? [])
        : [];
      const policy = choosePolicy(policies, firstServiceDate);
      if (policy) policyOf.set(claimId, policy);
    }
    const coverages = await this.lockCoverages(em, [...policyOf.values()]);
    // Each claim's contract: its policy's, else its insurer's in force on its first service date; all in two reads.
    const contractKeyOf = new Map<string, string>();
    const byId = new Map<string, { key: string; id: string; insurerId: string }>();
    const byDate = new Map<string, { key: string; insurerId: string; serviceDate: string }>();
    for (const [claimId, { claim }] of proven) {
      const policy = policyOf.get(claimId);
      const serviceDate = claim.items.map((i) => i.servicedDate).sort()[0];
      const key = policy
        ? `policy\n${policy.contractId}\n${claim.insurer_id}`
        : `insurer\n${claim.insurer_id}\n${serviceDate}`;
      contractKeyOf.set(claimId, key);
      if (policy) byId.set(key, { key, id: policy.contractId, insurerId: claim.insurer_id });
      else byDate.set(key, { key, insurerId: claim.insurer_id, serviceDate });
    }
    const contracts = await this.contracts.contractsOf(em, { byId: [...byId.values()], byDate: [...byDate.values()] });
    const toDecide: {
      claimId: string;
      claim: PendingClaim['claim'];
      verifiedEventId: string;
      confirmationId: string;
      job: PoolJob;
      active: boolean;
      correlationId?: string;
    }[] = [];
    for (const [claimId, { claim, verification }] of proven) {
      const serviceDates = [...new Set(claim.items.map((i) => i.servicedDate))].sort();
      const policy = policyOf.get(claimId);
      const coverage = policy ? coverages.get(policy.id) : undefined;
      const contract = contracts.get(contractKeyOf.get(claimId)!);
      // Nothing to decide by (no policy, no contract): held (isolating) or dead-lettered, until the insurer has one.
      if (!contract) {
        hold(claimId, new ClaimNotDecidableError(`no contract in force for insurer ${claim.insurer_id}`));
        continue;
      }
      // That the definition hashes to its id is checked on the worker (a large contract's hash is work too).
      const contractId = contract.id;
      toDecide.push({
        claimId,
        claim,
        verifiedEventId: verification.id,
        // A draft, or a contract not in force on every service date, decides nothing: pended (ADR 21).
        active: activeOn(periodOf(contract), serviceDates),
        correlationId: verification.correlationid,
        confirmationId: verification.data.confirmationId,
        job: {
          contractId,
          contract: contract.definition,
          claim: toAdjudicationInput(
            claim,
            unverifiedLinesOf(claim.items, verification.data),
            verification.data.attestationHash === undefined,
          ),
          coverage: coverage ?? null,
          review: null,
          algorithm: this.settings.algorithm,
          // Claims on one policy are decided in turn, each from the accumulators the one before it left.
          ...(coverage ? { chain: coverage.policy.id } : {}),
        },
      });
    }
    // A claim with more lines than a contract may be asked to decide at once is pended without running it (the
    // others of its policy then start from the accumulators as they were, as after any pended claim).
    const runnable = toDecide.filter((d) => d.active && d.job.claim.items.length <= CONTRACT_LIMITS.maxClaimLines);
    const outcomes = new Map(
      (await this.pool.adjudicateMany(runnable.map((d) => d.job))).map((outcome, k) => [runnable[k].claimId, outcome]),
    );
    for (const { claimId, claim, verifiedEventId, correlationId, confirmationId, job, active } of toDecide) {
      const unrun = active ? PEND_TOO_MANY_LINES : PEND_CONTRACT_NOT_ACTIVE;
      let result: Adjudication;
      try {
        result = decisionOf(outcomes.get(claimId) ?? { unrun }, job, (why) => {
          throw new ClaimNotDecidableError(why);
        });
      } catch (error) {
        hold(claimId, error);
        continue;
      }
      decisions.adjudicated(claimId, job.contractId, result, verifiedEventId);
      this.decide(decisions, {
        claimId,
        claim,
        contractId: job.contractId,
        verifiedEventId,
        confirmationId,
        correlationId,
        policy: job.coverage?.policy ?? null,
        result,
      });
    }
    await decisions.write(em, this.claims, this.policies, this.outbox);
    this.metrics.decided(em, decisions.adjudications, decisions.payouts.length);
    return held;
  }

  /** Checks that an anchor commits to this event and proves itself (no I/O); returns its checkpoint note. */
  private checkAnchored(event: CloudEvent, anchor: StoredAnchor, what: string, detail = ''): string {
    // A salted (v2) leaf is recomputed with the salt its anchor carried (ADR 16); an unsalted one without.
    if (leafHashOfEvent(event, parseLeafSalt(anchor.data_salt)).toString('base64') !== anchor.leaf_hash) {
      this.ledger.refuse(`ledger leaf ${anchor.leaf_index} does not commit to ${what} ${event.id}${detail}`);
    }
    return this.ledger.checkAnchorEvidence({
      leafHash: anchor.leaf_hash,
      leafIndex: Number(anchor.leaf_index),
      treeSize: Number(anchor.tree_size),
      rootHash: anchor.root_hash,
      inclusionProof: anchor.inclusion_proof,
      checkpoint: anchor.checkpoint,
    });
  }

  /** Locks the policy (held until commit) and reads its accumulators: claims on one policy run one at a time. */
  async lockCoverage(em: EntityManager, policy: PolicyTerms): Promise<PolicyContext> {
    return (await this.lockCoverages(em, [policy])).get(policy.id)!;
  }

  /** lockCoverage for many policies at once: one statement locks them all (in id order), one reads their totals. */
  private async lockCoverages(
    em: EntityManager,
    policies: readonly PolicyTerms[],
  ): Promise<Map<string, PolicyContext>> {
    const byId = new Map(policies.map((p) => [p.id, p]));
    if (byId.size === 0) return new Map();
    const ids = [...byId.keys()];
    await this.policies.lockPolicies(em, ids);
    const totals = await this.policies.accumulatorsOf(em, ids);
    return new Map(
      [...byId.values()].map(({ id, contractId, memberPseudonym, start, end }) => {
        const accumulators: Accumulators = Object.fromEntries(
          (totals.get(id) ?? []).map((r) => [
            r.planYear,
            { deductibleMet: r.deductibleMet, benefitPaid: r.benefitPaid },
          ]),
        );
        return [id, { policy: { id, contractId, memberPseudonym, start, end }, accumulators }];
      }),
    );
  }

  /**
   * Everything a decision changes, in the caller's transaction: the policy's accumulators, the events announcing
   * it (claims.pended.v1, or claims.adjudicated.v1 and, when something is payable, the payout and
   * payouts.released.v1). The review path's way in; the consumer's batches go through `decide` and write once.
   */
  async settle(em: EntityManager, s: Settlement): Promise<void> {
    const decisions = new Decisions();
    this.decide(decisions, s);
    await decisions.write(em, this.claims, this.policies, this.outbox);
    this.metrics.decided(em, decisions.adjudications, decisions.payouts.length);
  }

  private decide(out: Decisions, s: Settlement): void {
    const { claimId, claim, contractId, verifiedEventId, result } = s;
    const policyId = result.policyId;
    if (policyId && result.decision !== 'pended') out.accumulators.set(policyId, result.accumulators.after);
    const now = new Date();
    // Caused by the verification (by the reviewer's request, buildEvent's default, on the review path), in the
    // claim's conversation (ADR 20).
    const common = {
      source: PAYOUT_SOURCE,
      subject: claimId,
      tenantid: claim.insurer_id,
      time: now,
      ...(s.review ? {} : { causationid: verifiedEventId }),
      ...(s.correlationId ? { correlationid: s.correlationId } : {}),
    };
    if (result.decision === 'pended') {
      out.event(Topics.ClaimsPended, {
        ...common,
        data: {
          claimId,
          contractId,
          policyId,
          verifiedEventId,
          ...(s.confirmationId ? { confirmationId: s.confirmationId } : {}),
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
    const adjudicated = out.event(Topics.ClaimsAdjudicated, {
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
          ...(result.unverified ? { unverified: result.unverified } : {}),
          ...(result.unattested ? { unattested: result.unattested } : {}),
          ...(result.unrun ? { unrun: result.unrun } : {}),
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
    // The release is caused by the adjudication.
    const released = out.event(Topics.PayoutsReleased, {
      ...common,
      causationid: adjudicated.id,
      correlationid: adjudicated.correlationid,
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
    out.payouts.push({
      id: payoutId,
      claimId,
      payeeId: claim.provider_id,
      amount: result.payable,
      currency: claim.currency,
      releasedEventId: released.id,
      correlationId: released.correlationid,
    });
  }
}

/**
 * The claim as adjudication reads it, with what its verification said: the lines it left unverified, and whether it
 * carried no signed attestation (`unattested`, which only a contract requiring one looks at, ADR 26).
 */
export function toAdjudicationInput(
  claim: PendingClaim['claim'],
  unverified: readonly UnverifiedLine[] = [],
  unattested = false,
): ClaimToAdjudicate {
  return {
    providerId: claim.provider_id,
    currency: claim.currency,
    patientPseudonym: claim.patient_pseudonym,
    items: claim.items,
    ...(unverified.length > 0 ? { unverified } : {}),
    ...(unattested ? { unattested } : {}),
  };
}

/**
 * The claim's lines its verification does not list as verified, each with treatment-verification's reason code
 * (`NOT_VERIFIED` when it gave none). What the verification's `items` leave out is what counts, not its
 * `unverified`: a line is paid only if the ledger-anchored verification names it.
 */
export function unverifiedLinesOf(
  items: readonly { sequence: number }[],
  verification: Pick<TreatmentVerifiedV1, 'items' | 'unverified'>,
): UnverifiedLine[] {
  const verified = new Set(verification.items.map((i) => i.sequence));
  const reasons = new Map((verification.unverified ?? []).map((u) => [u.sequence, u.code]));
  return items
    .filter((i) => !verified.has(i.sequence))
    .map((i) => ({ sequence: i.sequence, code: reasons.get(i.sequence) ?? 'NOT_VERIFIED' }))
    .sort((a, b) => a.sequence - b.sequence);
}

/** One decision and what it was made on. */
export interface Settlement {
  claimId: string;
  claim: PendingClaim['claim'];
  contractId: string;
  verifiedEventId: string;
  /** The confirmation that verification came from (absent on the review path, which never pends). */
  confirmationId?: string;
  /** The verification's `correlationid`, which the decision's events carry on (absent on the review path). */
  correlationId?: string;
  policy: PolicyTerms | null;
  result: Adjudication;
  review?: { reviewer: string; reason: string };
}

/**
 * What a group of decisions writes, collected while deciding and written at the end in a few statements: the
 * adjudications, the payouts, each policy's latest accumulators, and every event in one outbox statement.
 */
class Decisions {
  readonly adjudications: AdjudicationRow[] = [];
  readonly payouts: PayoutRow[] = [];
  readonly accumulators = new Map<string, Accumulators>();
  private readonly events: { topic: TopicName; event: CloudEvent }[] = [];

  adjudicated(claimId: string, contractId: string, result: Adjudication, verifiedEventId: string): void {
    this.adjudications.push({
      claimId,
      contractId,
      policyId: result.policyId,
      decision: result.decision,
      payable: result.payable,
      result: { contractId, verifiedEventId, ...result },
    });
  }

  event<T extends TopicName>(topic: T, draft: EventDraft<T>): CloudEvent {
    const event = buildEvent(topic, draft);
    this.events.push({ topic, event });
    return event;
  }

  async write(
    em: EntityManager,
    claims: AdjudicationRepository,
    policies: PolicyRepository,
    outbox: OutboxWriter,
  ): Promise<void> {
    await claims.insertAdjudications(em, this.adjudications);
    await policies.saveAccumulatorsOf(em, this.accumulators);
    await claims.insertPayouts(em, this.payouts);
    await outbox.addBuilt(em, this.events);
  }
}
