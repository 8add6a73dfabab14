import Decimal from 'decimal.js';
import { Engine, RuleProperties } from 'json-rules-engine';
import { ClaimSubmittedV1, PEND_REASON_ATTESTATION_MISSING } from '@claimchain/wire';
import { ContractDefinition } from './contract.definition';
import { planYearOf, PolicyTerms } from './plan-year';

/**
 * Adjudication v3: a pure, deterministic function of (contract, claim, policy accumulators). No clock, no I/O, no
 * randomness: the same inputs give the same result, byte for byte, so a decision can be replayed from the ledger.
 *
 * Money: every input amount has at most two decimals and is handled as decimal.js values; the only division is
 * coinsurance, rounded half-even (banker's rounding) to the cent per line; the benefit is what remains, so a line's
 * amounts always add up exactly: submitted = denied/reduced (CO) + deductible (PR-1) + coinsurance (PR-2) + benefit.
 *
 * Per line, in sequence order (the order deductible and limits are consumed in):
 * 0. verification: a line the provider's confirmation did not verify (`claim.unverified`, issue 15 item 3) is
 *    denied with its reason's CARC code (CO-112 not performed or not on its date, CO-151 fewer than claimed) before
 *    anything else; decisions made before line-level verification have no such lines, so they replay as they were;
 * 1. eligibility: a policy for the claim's coverage (CO-31 without one; v2 let the contract alone decide), member
 *    (CO-31), contract window and policy period (CO-26 before, CO-27 after), excluded code
 *    (CO-204), out-of-network denial (CO-242), then the rules: deny-line, pend-line, pay-line or none (CO-96);
 *    a line not denied is pended when the contract requires a signed attestation and the verification had none
 *    (`attestationRequired`, ADR 26; contracts without it decide as they did);
 * 2. per-code limit: cap the eligible amount (CO-45) or pend the line;
 * 3. deductible (PR-1) from what is left of the plan year's, coinsurance (PR-2) on the rest, and the benefit capped
 *    by what is left of the plan year's annual limit (CO-119). The coinsurance percent is the out-of-network one
 *    for an out-of-network provider, else the one the pay-line rule names, else the contract's.
 * A pended line pends the whole claim: it pays nothing and consumes no accumulator until reviewed.
 */
export const ADJUDICATION_ALGORITHM = 'claimchain/adjudication/3';
/**
 * v2: as v3, but a claim with no policy is decided by the contract alone. Every decision before issue 14 was made by
 * it (replays use the algorithm a decision names); now only development's demo setting (`DEMO_CONTRACT`) uses it.
 */
export const POLICYLESS_ADJUDICATION_ALGORITHM = 'claimchain/adjudication/2';
export type AdjudicationAlgorithm = typeof ADJUDICATION_ALGORITHM | typeof POLICYLESS_ADJUDICATION_ALGORITHM;

/** Why a line is denied when no policy covers the claim: the patient is not identified as the insurer's member. */
export const DENIAL_NO_POLICY = 'CO-31';

/**
 * The CARC code a line is denied with when treatment-verification did not verify it, by its stable reason code:
 * not performed, or not within the date tolerance (CO-112: not furnished or not documented); performed fewer times
 * than claimed (CO-151: the information does not support this many services). A code treatment-verification adds
 * later is CO-112 until mapped here.
 */
export const UNVERIFIED_LINE_DENIALS: Readonly<Record<string, string>> = {
  NOT_PERFORMED: 'CO-112',
  DATE_MISMATCH: 'CO-112',
  QUANTITY_SHORT: 'CO-151',
};
export const UNVERIFIED_LINE_DEFAULT_DENIAL = 'CO-112';

/** A claim line the treatment verification did not verify, and why (treatments.verified.v1 `unverified`). */
export interface UnverifiedLine {
  sequence: number;
  code: string;
}

/** Review reason when no policy exists for the claim but the contract needs plan-year accumulators. */
export const PEND_NO_POLICY = 'no-policy-for-accumulators';
/**
 * Review reason of a line whose contract requires the provider's signed attestation (`attestationRequired`) when the
 * verification carried none (ADR 26): a reviewer pays it or denies it, or the provider withdraws its verification
 * (ADR 25) and confirms again, signed.
 */
export const PEND_ATTESTATION_MISSING = PEND_REASON_ATTESTATION_MISSING;
export const PEND_CURRENCY = 'currency-mismatch';
/**
 * Review reasons of a claim whose contract was not run to the end (ADR 17): it took longer than the per-claim
 * timeout, its worker thread died running it, or the claim has more lines than a contract may be asked to decide at
 * once (CONTRACT_LIMITS.maxClaimLines). Such a claim is pended for review, never failed or retried for ever.
 */
export const PEND_CONTRACT_TIMEOUT = 'contract-timeout';
export const PEND_CONTRACT_FAILED = 'contract-failed';
export const PEND_TOO_MANY_LINES = 'claim-lines-over-limit';
/**
 * The claim's contract is not in force on every one of its service dates (ADR 21): a draft, or a date before its
 * effective date or from its retirement. The contract is not run; the claim is pended for review.
 */
export const PEND_CONTRACT_NOT_ACTIVE = 'contract-not-active';
export type UnrunReason =
  | typeof PEND_CONTRACT_TIMEOUT
  | typeof PEND_CONTRACT_FAILED
  | typeof PEND_TOO_MANY_LINES
  | typeof PEND_CONTRACT_NOT_ACTIVE;

export type ClaimLine = ClaimSubmittedV1['items'][number];

export interface ClaimToAdjudicate {
  providerId: string;
  currency: string;
  patientPseudonym: string | null;
  items: ClaimLine[];
  /** Lines the provider's confirmation did not verify: denied. Absent or empty: every line was verified. */
  unverified?: readonly UnverifiedLine[];
  /** The verification carried no signed attestation of the provider's (`attestationHash`). Absent: it did. */
  unattested?: boolean;
}

export interface AccumulatorValues {
  deductibleMet: string;
  benefitPaid: string;
}

/** Keyed by plan-year start date; a missing plan year starts at zero. */
export type Accumulators = Record<string, AccumulatorValues>;

export interface PolicyContext {
  policy: PolicyTerms;
  accumulators: Accumulators;
}

export type LineStatus = 'approved' | 'partial' | 'denied' | 'pended';
export type Decision = 'approved' | 'partial' | 'denied' | 'pended';

export interface Adjustment {
  reason: string;
  amount: string;
}

export interface AdjudicatedLine {
  sequence: number;
  system: string;
  code: string;
  servicedDate: string;
  status: LineStatus;
  planYear: string | null;
  inNetwork: boolean;
  submitted: string;
  eligible: string;
  deductible: string;
  coinsurance: string;
  benefit: string;
  /** CARC-style codes of the adjustments and pend reasons, in the order applied. */
  reasons: string[];
  adjustments: Adjustment[];
  pendReasons: string[];
  /** Pend reasons a reviewer settled (see ReviewOutcome). */
  reviewedPendReasons: string[];
  /** The rules that fired for this line, highest priority first: the engine's own account of the decision. */
  rules: { name: string; priority: number; event: { type: string; params?: Record<string, unknown> } }[];
}

export interface Adjudication {
  algorithm: AdjudicationAlgorithm;
  /**
   * The lines denied as unverified, in sequence order: an input recorded with the result so a replay or a review
   * decides them again the same way. Present only when there are some, so a result without them hashes as before.
   */
  unverified?: UnverifiedLine[];
  /**
   * The verification carried no signed attestation and the contract requires one (ADR 26): an input recorded with
   * the result, like `unverified`. Present only then, so every other result hashes as before; and on a decision
   * pended without its contract running (pendedUnrun) whenever the verification had none, for the review to pass on
   * (pended decisions are not replayed).
   */
  unattested?: true;
  /**
   * A reviewer denied a claim whose contract did not run, without running it (deniedUnrun): why it did not. Present
   * only then, so every other result hashes as before.
   */
  unrun?: UnrunReason;
  decision: Decision;
  review: ReviewOutcome | null;
  currency: string;
  policyId: string | null;
  submitted: string;
  eligible: string;
  deductible: string;
  coinsurance: string;
  payable: string;
  lines: AdjudicatedLine[];
  /** Plan-year accumulators before and after this claim (after = before when nothing is paid). */
  accumulators: { before: Accumulators; after: Accumulators };
}

const ZERO = new Decimal(0);
const cents = (d: Decimal) => d.toDecimalPlaces(2, Decimal.ROUND_HALF_EVEN);
const money = (d: Decimal) => d.toFixed(2);
const min = (a: Decimal, b: Decimal) => (a.lte(b) ? a : b);

interface FiredRule {
  name: string;
  priority: number;
  event: { type: string; params?: Record<string, unknown> };
}

async function fireRules(engine: Engine, facts: Record<string, unknown>): Promise<FiredRule[]> {
  const { results } = await engine.run(facts);
  // Rules of one priority run concurrently inside the engine: sort so the record never depends on that.
  return results
    .map((r) => ({
      name: r.name,
      priority: r.priority ?? 1,
      event: { type: r.event!.type, ...(r.event!.params ? { params: r.event!.params } : {}) },
    }))
    .sort((a, b) => b.priority - a.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A reviewer's decision on a pended claim: approve prices the pended lines as submitted, deny denies them. */
export type ReviewOutcome = { decision: 'approve' } | { decision: 'deny'; code: string };

export async function adjudicate(
  contract: ContractDefinition,
  claim: ClaimToAdjudicate,
  coverage: PolicyContext | null,
  review: ReviewOutcome | null = null,
  algorithm: AdjudicationAlgorithm = ADJUDICATION_ALGORITHM,
): Promise<Adjudication> {
  const p = contract.parameters;
  const engine = new Engine(contract.rules as RuleProperties[], { allowUndefinedFacts: false });
  const excluded = new Set(p.excludedCodes);
  const inNetwork = !p.network || p.network.providers.includes(claim.providerId);
  const needsAccumulators = p.deductible !== undefined || p.annualLimit !== undefined;
  const currencyMismatch = p.currency !== undefined && p.currency !== claim.currency;
  const attestationMissing = p.attestationRequired === true && claim.unattested === true;
  const running: Record<string, { deductibleMet: Decimal; benefitPaid: Decimal }> = {};
  const accumulatorOf = (planYear: string) =>
    (running[planYear] ??= {
      deductibleMet: new Decimal(coverage?.accumulators[planYear]?.deductibleMet ?? 0),
      benefitPaid: new Decimal(coverage?.accumulators[planYear]?.benefitPaid ?? 0),
    });

  const unverified = new Map((claim.unverified ?? []).map((u) => [u.sequence, u]));
  const lines: AdjudicatedLine[] = [];
  for (const item of [...claim.items].sort((a, b) => a.sequence - b.sequence)) {
    const key = `${item.system}|${item.code}`;
    const submitted = new Decimal(item.net);
    const adjustments: Adjustment[] = [];
    const pendReasons: string[] = [];
    const policy = coverage?.policy;
    const planYear = policy ? planYearOf(policy.start, item.servicedDate) : null;
    const rules = await fireRules(engine, {
      system: item.system,
      code: item.code,
      quantity: item.quantity,
      // Rules compare amounts; they never compute money, so a number is safe here.
      unitPrice: Number(item.unitPrice),
      net: Number(item.net),
      servicedDate: item.servicedDate,
      providerId: claim.providerId,
      inNetwork,
      excluded: excluded.has(key),
    });
    const ruleOf = (type: string) => rules.find((r) => r.event.type === type);

    let denial: string | undefined;
    const notVerified = unverified.get(item.sequence);
    if (notVerified) denial = UNVERIFIED_LINE_DENIALS[notVerified.code] ?? UNVERIFIED_LINE_DEFAULT_DENIAL;
    else if (!policy && algorithm !== POLICYLESS_ADJUDICATION_ALGORITHM) denial = DENIAL_NO_POLICY;
    else if (policy?.memberPseudonym && policy.memberPseudonym !== claim.patientPseudonym) denial = 'CO-31';
    else if (p.validFrom && item.servicedDate < p.validFrom) denial = 'CO-26';
    else if (p.validTo && item.servicedDate > p.validTo) denial = 'CO-27';
    else if (policy && item.servicedDate < policy.start) denial = 'CO-26';
    else if (policy && item.servicedDate > policy.end) denial = 'CO-27';
    else if (excluded.has(key)) denial = 'CO-204';
    else if (!inNetwork && p.network?.outOfNetwork.action === 'deny') denial = 'CO-242';
    else if (ruleOf('deny-line')) denial = String(ruleOf('deny-line')!.event.params?.reason);
    else if (!ruleOf('pend-line') && !ruleOf('pay-line')) denial = 'CO-96';

    let eligible = denial ? ZERO : submitted;
    if (denial) adjustments.push({ reason: denial, amount: money(submitted) });
    if (!denial) {
      const pend = ruleOf('pend-line');
      if (pend) pendReasons.push(`rule:${pend.name}:${String(pend.event.params?.reason)}`);
      if (currencyMismatch) pendReasons.push(PEND_CURRENCY);
      if (attestationMissing) pendReasons.push(PEND_ATTESTATION_MISSING);
      if (needsAccumulators && !coverage) pendReasons.push(PEND_NO_POLICY);
      const limit = p.perCodeLimits?.find((l) => l.code === key);
      if (limit && submitted.gt(limit.maxAmount)) {
        if (limit.action === 'pend') pendReasons.push(`per-code-limit:${limit.maxAmount}`);
        else {
          eligible = new Decimal(limit.maxAmount);
          adjustments.push({ reason: 'CO-45', amount: money(submitted.minus(eligible)) });
        }
      }
    }

    // A review settles every pend reason: the line is then priced as submitted, or denied with the reviewer's code.
    const reviewedPendReasons = review ? pendReasons.splice(0) : [];
    if (review?.decision === 'deny' && reviewedPendReasons.length > 0) {
      eligible = ZERO;
      adjustments.splice(0, adjustments.length, { reason: review.code, amount: money(submitted) });
    }

    let deductible = ZERO;
    let coinsurance = ZERO;
    let benefit = ZERO;
    // A pended line is priced only once reviewed: it consumes no deductible or limit now.
    if (eligible.gt(0) && pendReasons.length === 0) {
      // Without a policy (a reviewer approved it, or the contract has no deductible or limit) the claim is its own
      // plan year: its lines share one running total, which is not stored.
      const acc = accumulatorOf(planYear ?? 'claim');
      if (p.deductible !== undefined) {
        deductible = Decimal.max(ZERO, min(eligible, new Decimal(p.deductible).minus(acc.deductibleMet)));
        acc.deductibleMet = acc.deductibleMet.plus(deductible);
      }
      const rest = eligible.minus(deductible);
      const percent =
        !inNetwork && p.network?.outOfNetwork.action === 'coinsurance'
          ? p.network.outOfNetwork.coinsurancePercent
          : Number(ruleOf('pay-line')?.event.params?.coinsurancePercent ?? p.coinsurancePercent);
      coinsurance = cents(rest.mul(new Decimal(percent)).div(100));
      benefit = rest.minus(coinsurance);
      if (p.annualLimit !== undefined) {
        const left = Decimal.max(ZERO, new Decimal(p.annualLimit).minus(acc.benefitPaid));
        if (benefit.gt(left)) {
          adjustments.push({ reason: 'CO-119', amount: money(benefit.minus(left)) });
          benefit = left;
        }
      }
      acc.benefitPaid = acc.benefitPaid.plus(benefit);
      if (deductible.gt(0)) adjustments.push({ reason: 'PR-1', amount: money(deductible) });
      if (coinsurance.gt(0)) adjustments.push({ reason: 'PR-2', amount: money(coinsurance) });
    }

    const status: LineStatus =
      pendReasons.length > 0
        ? 'pended'
        : benefit.isZero() && deductible.isZero() && coinsurance.isZero()
          ? 'denied'
          : adjustments.some((a) => a.reason.startsWith('CO-'))
            ? 'partial'
            : 'approved';
    lines.push({
      sequence: item.sequence,
      system: item.system,
      code: item.code,
      servicedDate: item.servicedDate,
      status,
      planYear,
      inNetwork,
      submitted: money(submitted),
      eligible: money(eligible),
      deductible: money(deductible),
      coinsurance: money(coinsurance),
      benefit: money(benefit),
      reasons: [...adjustments.map((a) => a.reason), ...(pendReasons.length > 0 ? ['CO-133'] : [])],
      adjustments,
      pendReasons,
      reviewedPendReasons,
      rules,
    });
  }

  const decision = decide(lines.map((l) => l.status));
  const sum = (field: 'submitted' | 'eligible' | 'deductible' | 'coinsurance' | 'benefit') =>
    money(lines.reduce((total, l) => total.plus(l[field]), ZERO));
  const before = coverage ? sortedAccumulators(coverage.accumulators) : {};
  const after =
    coverage && decision !== 'pended'
      ? sortedAccumulators({
          ...coverage.accumulators,
          ...Object.fromEntries(
            Object.entries(running).map(([year, a]) => [
              year,
              { deductibleMet: money(a.deductibleMet), benefitPaid: money(a.benefitPaid) },
            ]),
          ),
        })
      : before;
  return {
    algorithm,
    ...(unverified.size > 0
      ? {
          unverified: [...unverified.values()]
            .sort((a, b) => a.sequence - b.sequence)
            .map(({ sequence, code }) => ({ sequence, code })),
        }
      : {}),
    ...(attestationMissing ? { unattested: true as const } : {}),
    decision,
    review,
    currency: claim.currency,
    policyId: coverage?.policy.id ?? null,
    submitted: sum('submitted'),
    eligible: sum('eligible'),
    deductible: sum('deductible'),
    coinsurance: sum('coinsurance'),
    payable: decision === 'pended' ? '0.00' : sum('benefit'),
    lines,
    accumulators: { before, after },
  };
}

/**
 * The decision on a claim whose contract did not run (see PEND_CONTRACT_TIMEOUT): every line pended for `reason`,
 * nothing priced, no accumulator consumed. It records no rules, since none ran; a review that approves runs the
 * contract again, one that denies does not (deniedUnrun).
 */
export function pendedUnrun(
  claim: ClaimToAdjudicate,
  coverage: PolicyContext | null,
  reason: UnrunReason,
  algorithm: AdjudicationAlgorithm = ADJUDICATION_ALGORITHM,
): Adjudication {
  return unrunDecision(claim, coverage, reason, null, algorithm);
}

/**
 * A reviewer's denial of a claim pended without its contract running (pendedUnrun): every line was pended, so every
 * line is denied with the reviewer's code, and the contract is not run: it may not be in force (ADR 21), or may not
 * finish in time. The result records why the contract did not run (`unrun`), so a replay gives it again.
 */
export function deniedUnrun(
  claim: ClaimToAdjudicate,
  coverage: PolicyContext | null,
  reason: UnrunReason,
  code: string,
  algorithm: AdjudicationAlgorithm = ADJUDICATION_ALGORITHM,
): Adjudication {
  return unrunDecision(claim, coverage, reason, { decision: 'deny', code }, algorithm);
}

/** Why a pended decision's contract did not run (pendedUnrun), or undefined when it ran. */
export function unrunReasonOf(result: Pick<Adjudication, 'decision' | 'lines'>): UnrunReason | undefined {
  if (result.decision !== 'pended' || result.lines.length === 0) return undefined;
  const [first] = result.lines[0].pendReasons;
  const unrun = UNRUN_REASONS.find((r) => r === first);
  return unrun && result.lines.every((l) => l.pendReasons.length === 1 && l.pendReasons[0] === unrun)
    ? unrun
    : undefined;
}

const UNRUN_REASONS: readonly UnrunReason[] = [
  PEND_CONTRACT_TIMEOUT,
  PEND_CONTRACT_FAILED,
  PEND_TOO_MANY_LINES,
  PEND_CONTRACT_NOT_ACTIVE,
];

function unrunDecision(
  claim: ClaimToAdjudicate,
  coverage: PolicyContext | null,
  reason: UnrunReason,
  review: Extract<ReviewOutcome, { decision: 'deny' }> | null,
  algorithm: AdjudicationAlgorithm,
): Adjudication {
  const policy = coverage?.policy;
  const accumulators = coverage ? sortedAccumulators(coverage.accumulators) : {};
  const unverified = [...(claim.unverified ?? [])].sort((a, b) => a.sequence - b.sequence);
  const unverifiedCode = new Map(
    unverified.map((u) => [u.sequence, UNVERIFIED_LINE_DENIALS[u.code] ?? UNVERIFIED_LINE_DEFAULT_DENIAL]),
  );
  const lines: AdjudicatedLine[] = [...claim.items]
    .sort((a, b) => a.sequence - b.sequence)
    .map((item) => {
      const submitted = money(new Decimal(item.net));
      // Denied: a line the verification did not verify keeps its own code, as the contract would have given it.
      const denial = review ? (unverifiedCode.get(item.sequence) ?? review.code) : undefined;
      return {
        sequence: item.sequence,
        system: item.system,
        code: item.code,
        servicedDate: item.servicedDate,
        status: denial ? 'denied' : 'pended',
        planYear: policy ? planYearOf(policy.start, item.servicedDate) : null,
        inNetwork: true,
        submitted,
        eligible: '0.00',
        deductible: '0.00',
        coinsurance: '0.00',
        benefit: '0.00',
        reasons: [denial ?? 'CO-133'],
        adjustments: denial ? [{ reason: denial, amount: submitted }] : [],
        pendReasons: denial ? [] : [reason],
        reviewedPendReasons: denial ? [reason] : [],
        rules: [],
      };
    });
  return {
    algorithm,
    // What the verification said is kept with the decision, so a review (or a replay) decides those lines as the
    // contract would have: unverified lines denied, a missing attestation settled by the reviewer.
    ...(unverified.length > 0 ? { unverified: unverified.map(({ sequence, code }) => ({ sequence, code })) } : {}),
    ...(claim.unattested && !review ? { unattested: true as const } : {}),
    ...(review ? { unrun: reason } : {}),
    decision: review ? 'denied' : 'pended',
    review,
    currency: claim.currency,
    policyId: policy?.id ?? null,
    submitted: money(lines.reduce((total, l) => total.plus(l.submitted), ZERO)),
    eligible: '0.00',
    deductible: '0.00',
    coinsurance: '0.00',
    payable: '0.00',
    lines,
    accumulators: { before: accumulators, after: accumulators },
  };
}

function decide(statuses: LineStatus[]): Decision {
  if (statuses.includes('pended')) return 'pended';
  if (statuses.every((s) => s === 'denied')) return 'denied';
  if (statuses.every((s) => s === 'approved')) return 'approved';
  return 'partial';
}

function sortedAccumulators(a: Accumulators): Accumulators {
  return Object.fromEntries(
    Object.keys(a)
      .sort()
      .map((year) => [
        year,
        {
          deductibleMet: money(new Decimal(a[year].deductibleMet)),
          benefitPaid: money(new Decimal(a[year].benefitPaid)),
        },
      ]),
  );
}
