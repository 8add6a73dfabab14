/**
 * What the end-to-end bench submits: four insurers and six providers, FHIR R4 claims of one to ten lines, and the
 * provider's confirmation of each. The mix is drawn from a seeded generator, so two runs offer the same claims:
 *
 * - approved: every line a covered service;
 * - partial: one excluded line among covered ones (the rest is paid);
 * - denied: only excluded services (CO-204, no payout);
 * - pended: an unlisted service (CPT 99499) that the insurer's contract sends to human review (pend-line);
 * - rejected: the provider confirms every line on another day, so treatment-verification verifies none and rejects
 *   the claim (one line off would now verify the others: each line is matched on its own, ADR 19).
 *
 * Three insurers publish contracts of their own at setup (different coinsurance, a second excluded code, the pend
 * rule); the fourth is paid under the demo contract payout seeds, which pends nothing, so it gets no pended claims.
 */

export const CPT = 'http://www.ama-assn.org/go/cpt';

export type Outcome = 'approved' | 'partial' | 'denied' | 'pended' | 'rejected';
export const OUTCOMES: readonly Outcome[] = ['approved', 'partial', 'denied', 'pended', 'rejected'];

/** Share of each outcome in the offered load (approved takes the rest). */
export const MIX: Record<Exclude<Outcome, 'approved'>, number> = {
  partial: 0.1,
  denied: 0.06,
  pended: 0.06,
  rejected: 0.05,
};

export interface Insurer {
  id: string;
  /** The contract it publishes at setup; undefined: the demo contract applies. */
  contract?: object;
  excluded: string[];
  pends: boolean;
}

const DEMO_EXCLUDED = ['15780'];
const UNLISTED = '99499';

function contractOf(name: string, coinsurancePercent: number, excluded: string[]): object {
  return {
    name,
    version: '1',
    parameters: { coinsurancePercent, excludedCodes: excluded.map((c) => `${CPT}|${c}`) },
    rules: [
      {
        name: 'excluded-service',
        priority: 10,
        conditions: { all: [{ fact: 'excluded', operator: 'equal', value: true }] },
        event: { type: 'deny-line', params: { reason: 'CO-204' } },
      },
      {
        name: 'unlisted-service-review',
        priority: 5,
        conditions: {
          all: [
            { fact: 'code', operator: 'equal', value: UNLISTED },
            { fact: 'excluded', operator: 'equal', value: false },
          ],
        },
        event: { type: 'pend-line', params: { reason: 'unlisted service: medical review' } },
      },
      {
        name: 'covered-service',
        priority: 1,
        conditions: {
          all: [
            { fact: 'excluded', operator: 'equal', value: false },
            { fact: 'quantity', operator: 'greaterThan', value: 0 },
          ],
        },
        event: { type: 'pay-line', params: { coinsurancePercent } },
      },
    ],
  };
}

export const INSURERS: Insurer[] = [
  {
    id: 'acme-health',
    contract: contractOf('acme-outpatient', 20, ['15780', '97810']),
    excluded: ['15780', '97810'],
    pends: true,
  },
  {
    id: 'north-mutual',
    contract: contractOf('north-standard', 10, ['15780', '97810']),
    excluded: ['15780', '97810'],
    pends: true,
  },
  {
    id: 'bluefield-care',
    contract: contractOf('bluefield-basic', 30, ['15780']),
    excluded: ['15780'],
    pends: true,
  },
  { id: 'civic-assurance', excluded: DEMO_EXCLUDED, pends: false },
];

export const PROVIDERS = [
  'city-clinic',
  'harbor-hospital',
  'valley-lab',
  'north-imaging',
  'riverside-gp',
  'summit-ortho',
];

/** Covered services with a unit price in cents and the most that is billed at once. */
const COVERED: { code: string; cents: number; maxQuantity: number }[] = [
  { code: '99213', cents: 12000, maxQuantity: 1 },
  { code: '99214', cents: 16500, maxQuantity: 1 },
  { code: '99203', cents: 14000, maxQuantity: 1 },
  { code: '99395', cents: 19000, maxQuantity: 1 },
  { code: '85025', cents: 1525, maxQuantity: 2 },
  { code: '80053', cents: 2250, maxQuantity: 1 },
  { code: '36415', cents: 800, maxQuantity: 2 },
  { code: '71046', cents: 6000, maxQuantity: 1 },
  { code: '93000', cents: 3500, maxQuantity: 1 },
  { code: '90471', cents: 2500, maxQuantity: 2 },
  { code: '90686', cents: 3000, maxQuantity: 1 },
  { code: '81003', cents: 650, maxQuantity: 1 },
  { code: '87880', cents: 1800, maxQuantity: 1 },
  { code: '73030', cents: 5500, maxQuantity: 1 },
  { code: '97110', cents: 4500, maxQuantity: 3 },
];
const PRICES: Record<string, number> = { '15780': 85000, '97810': 7000, [UNLISTED]: 25000 };

/** mulberry32: small, fast, and the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Line {
  code: string;
  quantity: number;
  cents: number;
  date: string;
}

export interface PlannedClaim {
  n: number;
  insurer: string;
  provider: string;
  outcome: Outcome;
  lines: Line[];
  /** The FHIR Claim as sent. */
  body: string;
  /** The provider's confirmation, once the claim id is known. */
  confirmation(claimId: string): string;
}

const pad = (n: number) => String(n).padStart(2, '0');
const money = (cents: number) => cents / 100;

/** The coverage shared by many claims of an insurer (the chaos run enrols a policy for each). */
export function sharedCoverageId(insurer: string, index: number): string {
  return `${insurer}-shared-${index}`;
}

export interface SharedCoverages {
  /** Every n-th claim of an insurer that publishes its own contract names one of its shared coverages. */
  every: number;
  perInsurer: number;
}

export class Workload {
  private readonly random: () => number;
  private n = 0;

  constructor(
    seed: number,
    private readonly runId: string,
    /** Unset (the bench): every claim has a coverage of its own, with no policy. */
    private readonly shared?: SharedCoverages,
  ) {
    this.random = seededRandom(seed);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  private shuffled<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy;
  }

  private outcomeFor(insurer: Insurer): Outcome {
    let r = this.random();
    for (const outcome of ['partial', 'denied', 'pended', 'rejected'] as const) {
      if (r < MIX[outcome]) return outcome === 'pended' && !insurer.pends ? 'approved' : outcome;
      r -= MIX[outcome];
    }
    return 'approved';
  }

  next(): PlannedClaim {
    const n = (this.n += 1);
    const insurer = this.pick(INSURERS);
    const provider = this.pick(PROVIDERS);
    const outcome = this.outcomeFor(insurer);
    // One to ten lines, mostly few: 1 + ⌊10·r²⌋ averages about four.
    const count = Math.min(10, 1 + Math.floor(10 * this.random() ** 2));
    const day = `2026-${pad(1 + Math.floor(this.random() * 10))}-${pad(1 + Math.floor(this.random() * 28))}`;
    const covered = this.shuffled(COVERED);
    const lines: Line[] = [];
    const add = (code: string, quantity = 1) =>
      lines.push({ code, quantity, cents: PRICES[code] ?? COVERED.find((c) => c.code === code)!.cents, date: day });
    if (outcome === 'denied') {
      for (const code of insurer.excluded.slice(0, Math.min(count, insurer.excluded.length))) add(code);
    } else {
      const special = outcome === 'partial' ? this.pick(insurer.excluded) : outcome === 'pended' ? UNLISTED : null;
      // A partial claim needs a covered line beside the excluded one; a pended one may be the unlisted line alone.
      const normal = outcome === 'partial' ? Math.max(count - 1, 1) : outcome === 'pended' ? count - 1 : count;
      for (const c of covered.slice(0, normal)) add(c.code, 1 + Math.floor(this.random() * c.maxQuantity));
      if (special) lines.splice(Math.floor(this.random() * (lines.length + 1)), 0, { ...lineOf(special, day) });
    }
    // A unique patient per claim: no claim is refused as a duplicate of another run's or another claim's.
    const patient = `bench-${this.runId}-${n}`;
    const total = lines.reduce((sum, l) => sum + l.cents * l.quantity, 0);
    // Drawn from n, not the generator: the same seed offers the bench the same claims with or without it.
    const coverage =
      this.shared && insurer.contract && n % this.shared.every === 0
        ? sharedCoverageId(insurer.id, (n / this.shared.every) % this.shared.perInsurer)
        : `${insurer.id}-${patient}`;
    const body = JSON.stringify({
      resourceType: 'Claim',
      status: 'active',
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'professional' }] },
      use: 'claim',
      patient: { reference: `Patient/${patient}` },
      created: '2026-11-20',
      insurer: { reference: `Organization/${insurer.id}` },
      provider: { reference: `Organization/${provider}` },
      priority: { coding: [{ code: 'normal' }] },
      insurance: [{ sequence: 1, focal: true, coverage: { reference: `Coverage/${coverage}` } }],
      item: lines.map((l, i) => ({
        sequence: i + 1,
        productOrService: { coding: [{ system: CPT, code: l.code }] },
        servicedDate: l.date,
        quantity: { value: l.quantity },
        unitPrice: { value: money(l.cents), currency: 'EUR' },
        net: { value: money(l.cents * l.quantity), currency: 'EUR' },
      })),
      total: { value: money(total), currency: 'EUR' },
    });
    // Drawn as when one line was wrong, so the seeded sequence of the claims after it stays as it was.
    if (outcome === 'rejected') this.random();
    return {
      n,
      insurer: insurer.id,
      provider,
      outcome,
      lines,
      body,
      confirmation: (claimId) =>
        JSON.stringify({
          claimId,
          performed: lines.map((l) => ({
            system: CPT,
            code: l.code,
            quantity: l.quantity,
            // The rejected ones: every line performed on another day than claimed (DATE_MISMATCH).
            performedAt: outcome === 'rejected' ? nextDay(l.date) : l.date,
          })),
        }),
    };
  }
}

function lineOf(code: string, date: string): Line {
  return { code, quantity: 1, cents: PRICES[code], date };
}

function nextDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}
