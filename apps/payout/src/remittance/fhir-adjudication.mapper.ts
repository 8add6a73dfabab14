import Decimal from 'decimal.js';
import { CLAIM_TYPE_SYSTEM } from '@claimchain/wire';
import { Adjudication, AdjudicatedLine } from '../engine/adjudicate';

/**
 * The FHIR R4 parts the two remittance resources share: the ClaimResponse (insurer and provider) and the
 * ExplanationOfBenefit (the member) describe one adjudication, so they build its money, line adjudications, totals,
 * patient, outcome and notes here, once, and cannot disagree about what was paid or why.
 */
export const ADJUDICATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/adjudication';
/** R4's adjudication code system has no coinsurance category (nor CARC group codes); ours names them. */
export const CLAIMCHAIN_ADJUDICATION_SYSTEM = 'https://claimchain.dev/fhir/CodeSystem/adjudication';
export const CARC_SYSTEM = 'https://x12.org/codes/claim-adjustment-reason-codes';
export const PSEUDONYM_SYSTEM = 'https://claimchain.dev/fhir/NamingSystem/patient-pseudonym';

/** What either remittance resource is built from: the claim's parties, the decision and the payout, if any. */
export interface RemittanceInput {
  claimId: string;
  insurerId: string;
  providerId: string;
  patientPseudonym: string | null;
  /** The focal Coverage's id as the claim named it (null for claims stored before coverage was kept). */
  coverage: string | null;
  /** The claim's kind (claim-type code); null for claims announced before claims.submitted.v1 carried it. */
  claimType: string | null;
  /** When the decision was made (YYYY-MM-DDThh:mm:ss.sssZ). */
  decidedAt: string;
  result: Adjudication;
  payment: { amount: string; date: string } | null;
}

export interface FhirMoney {
  value: number;
  currency: string;
}

type CodeableConcept = { coding: { system: string; code: string; display?: string }[] };

/**
 * FHIR JSON carries decimals as JSON numbers. Our amounts are decimal strings with two places; this is the one
 * place they become numbers, and only when the number prints back as the same decimal (always so up to 15
 * significant digits; numeric(17,2) allows 17, and those few amounts are refused rather than rounded).
 */
export function fhirMoney(amount: string, currency: string): FhirMoney {
  const value = Number(amount);
  if (!new Decimal(value).eq(new Decimal(amount))) {
    throw new RangeError(`${amount} ${currency} has no exact JSON number`);
  }
  return { value, currency };
}

/** ClaimResponse.type and ExplanationOfBenefit.type: the claim's own; `professional` for claims that did not say. */
export function claimTypeOf(r: RemittanceInput): CodeableConcept {
  return { coding: [{ system: CLAIM_TYPE_SYSTEM, code: r.claimType ?? 'professional' }] };
}

const category = (code: string, system = ADJUDICATION_SYSTEM): CodeableConcept => ({ coding: [{ system, code }] });

/** ClaimResponse.outcome and ExplanationOfBenefit.outcome (R4 remittance-outcome). */
export const OUTCOME = { approved: 'complete', partial: 'partial', denied: 'complete', pended: 'queued' } as const;

export const disposition = (result: Adjudication) => `${result.decision}${result.review ? ' after review' : ''}`;

/** The patient by pseudonym only: never a Patient reference that could name them. */
export function patientReference(pseudonym: string | null) {
  return pseudonym ? { identifier: { system: PSEUDONYM_SYSTEM, value: pseudonym } } : { display: 'unknown' };
}

export const organization = (id: string) => ({ reference: `Organization/${id}` });

/** A CARC-style reason ("CO-204") as a CARC coding; the group (CO, PR) becomes the adjudication category. */
function carcAdjustment(reason: string, amount: string, currency: string) {
  const [group, code] = reason.split('-', 2);
  return {
    category: category(group === 'PR' ? 'patient-responsibility' : 'adjustment', CLAIMCHAIN_ADJUDICATION_SYSTEM),
    reason: { coding: [{ system: CARC_SYSTEM, code, display: reason }] },
    amount: fhirMoney(amount, currency),
  };
}

/** One line's adjudication: submitted, eligible, deductible, coinsurance, benefit, then each adjustment's reason. */
export function lineAdjudication(line: AdjudicatedLine, currency: string) {
  return [
    { category: category('submitted'), amount: fhirMoney(line.submitted, currency) },
    { category: category('eligible'), amount: fhirMoney(line.eligible, currency) },
    { category: category('deductible'), amount: fhirMoney(line.deductible, currency) },
    {
      category: category('coinsurance', CLAIMCHAIN_ADJUDICATION_SYSTEM),
      amount: fhirMoney(line.coinsurance, currency),
    },
    { category: category('benefit'), amount: fhirMoney(line.benefit, currency) },
    ...line.adjustments.map((a) => carcAdjustment(a.reason, a.amount, currency)),
  ];
}

/** The claim's totals per category; the benefit is what is payable (nothing while the claim is pended). */
export function totals(result: Adjudication) {
  const c = result.currency;
  return [
    { category: category('submitted'), amount: fhirMoney(result.submitted, c) },
    { category: category('eligible'), amount: fhirMoney(result.eligible, c) },
    { category: category('deductible'), amount: fhirMoney(result.deductible, c) },
    { category: category('coinsurance', CLAIMCHAIN_ADJUDICATION_SYSTEM), amount: fhirMoney(result.coinsurance, c) },
    { category: category('benefit'), amount: fhirMoney(result.payable, c) },
  ];
}

/** The payment, once released; absent while nothing has been paid. */
export function payment(r: RemittanceInput) {
  if (!r.payment) return {};
  return {
    payment: {
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/ex-paymenttype', code: 'complete' }] },
      date: r.payment.date,
      amount: fhirMoney(r.payment.amount, r.result.currency),
    },
  };
}

/** What the reason codes adjudication gives mean, in words a member can read (X12 CARC descriptions, shortened). */
const CARC_TEXT: Record<string, string> = {
  'CO-26': 'the service was before the coverage started',
  'CO-27': 'the service was after the coverage ended',
  'CO-31': 'the patient is not the member this coverage is for',
  'CO-45': 'the charge exceeds the maximum allowed for this service',
  'CO-50': 'the service is not deemed a medical necessity',
  'CO-96': 'the service is not covered',
  'CO-112': "the provider's confirmation does not show the service performed on that date",
  'CO-151': "the provider's confirmation does not support this many services",
  'CO-119': 'the benefit maximum for the plan year has been reached',
  'CO-204': "the service is not covered under the member's current benefit plan",
  'CO-242': 'the provider is not in the network',
};

export interface ProcessNote {
  number: number;
  type: 'display';
  text: string;
}

/**
 * A note for each pended or denied line, saying why, and the note numbers each line refers to. Reasons the
 * member owes (deductible, coinsurance) are amounts, not notes.
 */
export function processNotes(result: Adjudication): {
  notes: ProcessNote[];
  noteNumbers: (sequence: number) => { noteNumber?: number[] };
} {
  const notes: ProcessNote[] = [];
  const bySequence = new Map<number, number>();
  for (const line of result.lines) {
    let text: string | undefined;
    if (line.status === 'pended') {
      text = `Line ${line.sequence} is pended for review (CO-133): ${line.pendReasons.join('; ')}.`;
    } else if (line.status === 'denied') {
      const why = line.adjustments.map((a) => (CARC_TEXT[a.reason] ? `${a.reason} ${CARC_TEXT[a.reason]}` : a.reason));
      text = `Line ${line.sequence} is not paid: ${why.join('; ')}.`;
    }
    if (text) {
      notes.push({ number: notes.length + 1, type: 'display', text });
      bySequence.set(line.sequence, notes.length);
    }
  }
  return {
    notes,
    noteNumbers: (sequence) => (bySequence.has(sequence) ? { noteNumber: [bySequence.get(sequence)!] } : {}),
  };
}
