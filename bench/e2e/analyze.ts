/**
 * Turns what was sent and what the services recorded into the figures: per claim, the time of each step as the
 * owning service recorded it (the events' own `time`), then per stage the latency percentiles, how stale
 * claim-intake's status view is, how long each consumer took to take in each topic's events, and the rates.
 *
 * A claim's steps, each from the service that owns the fact:
 *   accepted     claim-intake    claims.submitted_at (the 202)
 *   verified     treatment-ver.  treatment.verified (or .rejected) event time
 *   anchored     ledger          the ledger.anchored.v2 notice listing that verification (its checkpoint covers it)
 *   adjudicated  payout          claim.adjudicated (or claim.pended) event time
 *   released     payout          payout.released event time ("payment-pending" in claim-intake's words)
 *   settled      payout          payout.settled event time (the simulated bank's report; "paid")
 * and when claim-intake showed each (its inbox row for that event: the start of the transaction applying it).
 */
import { Facts, OutboxEvent } from './collect';
import { SentClaim } from './load';
import { percentiles, Percentiles } from './stats';
import { Outcome } from './workload';

export const STEPS = ['accepted', 'verified', 'anchored', 'adjudicated', 'released', 'settled'] as const;
export type Step = (typeof STEPS)[number];

export interface ClaimTimes {
  id: string;
  expected: Outcome;
  actual?: Outcome;
  intendedAt: number;
  steps: Partial<Record<Step, number>>;
  /** When claim-intake applied the event of each step (for anchored: the notice of the verification's anchor). */
  shown: Partial<Record<Step, number>>;
  /** When the claim reached its end in the owning service (rejected, denied, pended, settled). */
  finishedAt?: number;
  /** When claim-intake showed its end status (paid, from the release; denied, pended, verification-rejected). */
  shownFinishedAt?: number;
}

export interface PhaseResult {
  name: string;
  offeredRate: number;
  seconds: number;
  window: { start: number; end: number };
  sent: number;
  accepted: number;
  confirmed: number;
  errors: Record<string, number>;
  /** Claims finished per second during the window (any claim, by the time its end was recorded). */
  achievedRate: number;
  /** The same, as claim-intake showed them. */
  achievedShownRate: number;
  finished: number;
  unfinished: number;
  unfinishedByExpected: Partial<Record<Outcome, number>>;
  /** Claims that ended otherwise than the workload meant (a wrong mix, or a bug). */
  mismatched: number;
  outcomes: Partial<Record<Outcome, number>>;
  generatorLagMs: Percentiles;
  http: { claimMs: Percentiles; confirmationMs: Percentiles };
  /** Stage to stage, e.g. "verified→anchored", and cumulative from acceptance, e.g. "accepted→released". */
  stages: Record<string, Percentiles>;
  /** The knee's figure: accepted→released of the claims meant to be paid; unfinished ones count as ∞. */
  submitToPaid: Percentiles;
  submitToFinished: Percentiles;
  /** claim-intake's status view: when it showed a fact minus when the owning service recorded it. */
  staleness: Record<string, Percentiles>;
  /** Each consumer's inbox time minus the event's time, per topic ("payout ← ledger.anchored.v2"). */
  delivery: Record<string, Percentiles>;
  /** Each producer's outbox row published minus written (the relay). */
  relay: Record<string, Percentiles>;
  /**
   * Per second from the phase's start (the run's, warm-up included, for a single run) to the end of its drain:
   * claims offered, accepted (202), finished, and p50/p99 of accepted→finished of the claims accepted in that second.
   */
  series: { t: number; offered: number; accepted: number; finished: number; p50: number | null; p99: number | null }[];
  /** Work per claim finished in the window: database commits and Kafka messages. */
  perClaim?: { commits: number; messages: number };
  claims: ClaimTimes[];
}

const FINISHED_STATUS: Record<string, Outcome | 'paid'> = {
  paid: 'paid',
  denied: 'denied',
  pended: 'pended',
  'verification-rejected': 'rejected',
};

export function claimTimes(sent: SentClaim[], facts: Facts): ClaimTimes[] {
  const bySubject = new Map<string, OutboxEvent[]>();
  const anchorOf = new Map<string, OutboxEvent>();
  for (const e of facts.events.values()) {
    if (e.type === 'ledger.anchored' && e.about) anchorOf.set(e.about, e);
    else {
      let list = bySubject.get(e.subject);
      if (!list) bySubject.set(e.subject, (list = []));
      list.push(e);
    }
  }
  const shownAt = new Map<string, number>();
  for (const r of facts.inbox) if (r.consumer === 'claim-intake') shownAt.set(r.eventId, r.processedAt);

  return sent
    .filter((s) => s.claimId)
    .map((s) => {
      const id = s.claimId!;
      const events = bySubject.get(id) ?? [];
      const first = (...types: string[]) => events.find((e) => types.includes(e.type));
      const verification = first('treatment.verified', 'treatment.rejected');
      const anchor = verification && anchorOf.get(verification.id);
      const decision = first('claim.adjudicated', 'claim.pended');
      const released = first('payout.released');
      const settled = first('payout.settled');
      const intake = facts.claims.get(id);
      const t: ClaimTimes = { id, expected: s.outcome, intendedAt: s.intendedAt, steps: {}, shown: {} };
      if (intake) t.steps.accepted = intake.submittedAt;
      const put = (step: Step, e: OutboxEvent | undefined) => {
        if (!e) return;
        t.steps[step] = e.time;
        const shown = shownAt.get(e.notice ?? e.id);
        if (shown !== undefined) t.shown[step] = shown;
      };
      put('verified', verification);
      put('anchored', anchor);
      put('adjudicated', decision);
      put('released', released);
      put('settled', settled);
      if (verification?.type === 'treatment.rejected') {
        t.actual = 'rejected';
        t.finishedAt = verification.time;
        t.shownFinishedAt = t.shown.verified;
      } else if (decision?.type === 'claim.pended') {
        t.actual = 'pended';
        t.finishedAt = decision.time;
        t.shownFinishedAt = t.shown.adjudicated;
      } else if (decision?.decision === 'denied') {
        t.actual = 'denied';
        t.finishedAt = decision.time;
        t.shownFinishedAt = t.shown.adjudicated;
      } else if (decision) {
        t.actual = decision.decision === 'partial' ? 'partial' : 'approved';
        t.finishedAt = settled?.time;
        t.shownFinishedAt = t.shown.settled;
      }
      // claim-intake's status is the final say on what it showed, whichever event it came from.
      if (t.shownFinishedAt === undefined && intake && FINISHED_STATUS[intake.status]) {
        t.shownFinishedAt = intake.updatedAt;
      }
      return t;
    });
}

function inWindow(t: number | undefined, w: { start: number; end: number }): boolean {
  return t !== undefined && t >= w.start && t < w.end;
}

export function analyzePhase(opts: {
  name: string;
  rate: number;
  window: { start: number; end: number };
  /** Every claim sent so far in the run (rates count any claim finishing in the window). */
  all: ClaimTimes[];
  /** The claims of this phase (latencies are theirs). */
  sent: SentClaim[];
  /** Every claim sent so far, and the span the per-second series covers. */
  allSent: SentClaim[];
  seriesRange: { start: number; end: number };
  facts: Facts;
}): PhaseResult {
  const { window, sent, facts } = opts;
  const seconds = (window.end - window.start) / 1000;
  const mine = new Set(sent.map((s) => s.claimId).filter(Boolean));
  const claims = opts.all.filter((c) => mine.has(c.id));
  const errors: Record<string, number> = {};
  for (const s of sent) {
    if (!s.error) continue;
    const kind = s.error.replace(/:.*$/, '').slice(0, 60);
    errors[kind] = (errors[kind] ?? 0) + 1;
  }
  const confirmedIds = new Set(
    sent.filter((s) => s.confirmStatus === 201 || s.confirmStatus === 202).map((s) => s.claimId),
  );
  const canFinish = claims.filter((c) => confirmedIds.has(c.id));

  const outcomes: Partial<Record<Outcome, number>> = {};
  const unfinishedByExpected: Partial<Record<Outcome, number>> = {};
  let mismatched = 0;
  for (const c of canFinish) {
    if (c.finishedAt === undefined) unfinishedByExpected[c.expected] = (unfinishedByExpected[c.expected] ?? 0) + 1;
    if (c.actual) outcomes[c.actual] = (outcomes[c.actual] ?? 0) + 1;
    if (c.actual && c.finishedAt !== undefined && c.actual !== c.expected) mismatched += 1;
  }
  const finished = canFinish.filter((c) => c.finishedAt !== undefined).length;

  const diff = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined ? b - a : undefined;
  const collect = (pick: (c: ClaimTimes) => number | undefined, of: ClaimTimes[] = canFinish) =>
    of.map(pick).filter((v): v is number => v !== undefined);

  // A step the claim should have reached (by what the workload meant it to be) but had not by the end of the drain
  // counts as never (+∞): a stage's p99 is finite only if fewer than 1% are stuck in it.
  const reaches = (c: ClaimTimes, step: Step) => STEPS.indexOf(step) <= STEPS.indexOf(LAST_STEP[c.expected]);
  // Stage to stage, only the claims that got to `from`: a claim stuck earlier is counted at the stage it is stuck in.
  const timed = (from: Step, to: Step) => {
    const meant = canFinish.filter((c) => reaches(c, to) && c.steps[from] !== undefined);
    const values = collect((c) => diff(c.steps[from], c.steps[to]), meant);
    return percentiles(values, meant.filter((c) => c.steps[to] === undefined).length);
  };
  const stages: Record<string, Percentiles> = {};
  for (let i = 1; i < STEPS.length; i++) stages[`${STEPS[i - 1]}→${STEPS[i]}`] = timed(STEPS[i - 1], STEPS[i]);
  for (const to of STEPS.slice(2)) stages[`accepted→${to}`] = timed('accepted', to);
  stages['sent→accepted (client clock to server)'] = percentiles(collect((c) => diff(c.intendedAt, c.steps.accepted)));

  const toBePaid = canFinish.filter((c) => c.expected === 'approved' || c.expected === 'partial');
  const paid = collect((c) => diff(c.steps.accepted, c.steps.released), toBePaid);
  const submitToPaid = percentiles(paid, toBePaid.length - paid.length);
  const done = collect((c) => diff(c.steps.accepted, c.finishedAt));
  const submitToFinished = percentiles(done, canFinish.length - done.length);

  // Facts that happened but claim-intake had not shown by the end count as never shown.
  const stale = (happened: (c: ClaimTimes) => number | undefined, shown: (c: ClaimTimes) => number | undefined) => {
    const had = canFinish.filter((c) => happened(c) !== undefined);
    return percentiles(
      collect((c) => diff(happened(c), shown(c)), had),
      had.filter((c) => shown(c) === undefined).length,
    );
  };
  const staleness: Record<string, Percentiles> = {};
  for (const step of ['verified', 'anchored', 'adjudicated', 'released', 'settled'] as const) {
    staleness[`${step} (${STEP_EVENT[step]})`] = stale(
      (c) => c.steps[step],
      (c) => c.shown[step],
    );
  }
  // The end status claim-intake shows for a paid claim is "paid", from the settlement (a release is "payment-pending").
  staleness['end status (paid, denied, pended, rejected)'] = stale(
    (c) => (c.actual === 'approved' || c.actual === 'partial' ? c.steps.settled : c.finishedAt),
    (c) => c.shownFinishedAt,
  );

  const delivery: Record<string, number[]> = {};
  for (const r of facts.inbox) {
    const e = facts.events.get(r.eventId);
    // A ledger notice counts once per consumer that took it in, if it names one of these claims.
    const notice = e ? undefined : facts.notices.get(r.eventId);
    if (e ? !mine.has(e.subject) : !notice || ![...notice.subjects].some((s) => mine.has(s))) continue;
    (delivery[`${r.consumer} ← ${r.topic}`] ??= []).push(r.processedAt - (e ?? notice)!.time);
  }
  const relay: Record<string, number[]> = {};
  for (const e of facts.events.values()) {
    if (!mine.has(e.subject) || e.publishedAt === null) continue;
    (relay[e.producer] ??= []).push(e.publishedAt - e.createdAt);
  }

  const range = opts.seriesRange;
  const seconds0 = Math.ceil((range.end - range.start) / 1000);
  const buckets = Array.from({ length: seconds0 }, (_, i) => ({
    t: range.start + i * 1000,
    offered: 0,
    accepted: 0,
    finished: 0,
    latencies: [] as number[],
    missing: 0,
  }));
  const bucketOf = (t: number | undefined) =>
    t === undefined || t < range.start ? undefined : buckets[Math.floor((t - range.start) / 1000)];
  for (const s of opts.allSent) {
    const b = bucketOf(s.intendedAt);
    if (b) b.offered += 1;
  }
  for (const c of opts.all) {
    const a = bucketOf(c.steps.accepted);
    if (a) {
      a.accepted += 1;
      if (c.finishedAt !== undefined) a.latencies.push(c.finishedAt - c.steps.accepted!);
      else a.missing += 1;
    }
    const f = bucketOf(c.finishedAt);
    if (f) f.finished += 1;
  }
  const series: PhaseResult['series'] = buckets.map((b) => {
    const p = percentiles(b.latencies, b.missing);
    return { t: b.t, offered: b.offered, accepted: b.accepted, finished: b.finished, p50: p.p50, p99: p.p99 };
  });

  return {
    name: opts.name,
    offeredRate: opts.rate,
    seconds,
    window,
    sent: sent.length,
    accepted: sent.filter((s) => s.claimStatus === 202).length,
    confirmed: confirmedIds.size,
    errors,
    achievedRate: opts.all.filter((c) => inWindow(c.finishedAt, window)).length / seconds,
    achievedShownRate: opts.all.filter((c) => inWindow(c.shownFinishedAt, window)).length / seconds,
    finished,
    unfinished: canFinish.length - finished,
    unfinishedByExpected,
    mismatched,
    outcomes,
    generatorLagMs: percentiles(sent.map((s) => s.sentAt - s.intendedAt)),
    http: {
      claimMs: percentiles(
        sent.filter((s) => s.claimAnsweredAt !== undefined).map((s) => s.claimAnsweredAt! - s.intendedAt),
      ),
      confirmationMs: percentiles(
        sent
          .filter((s) => s.confirmAnsweredAt !== undefined && s.claimAnsweredAt !== undefined)
          .map((s) => s.confirmAnsweredAt! - s.claimAnsweredAt!),
      ),
    },
    stages,
    submitToPaid,
    submitToFinished,
    staleness,
    delivery: Object.fromEntries(
      Object.entries(delivery)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, percentiles(v)]),
    ),
    relay: Object.fromEntries(Object.entries(relay).map(([k, v]) => [k, percentiles(v)])),
    series,
    claims,
  };
}

/** The last step a claim of each kind reaches. */
const LAST_STEP: Record<Outcome, Step> = {
  approved: 'settled',
  partial: 'settled',
  denied: 'adjudicated',
  pended: 'adjudicated',
  rejected: 'anchored',
};

const STEP_EVENT: Record<Exclude<Step, 'accepted'>, string> = {
  verified: 'treatment.verified/rejected',
  anchored: 'ledger position of the verification',
  adjudicated: 'claim.adjudicated/pended',
  released: 'payout.released → "payment-pending"',
  settled: 'payout.settled → "paid"',
};
