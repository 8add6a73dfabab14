import { Adjudication, AdjudicatedLine } from '../adjudication/adjudicate';

/**
 * The remittance of an adjudicated claim as an HL7 FHIR R4 ClaimResponse: per line the adjudication categories
 * (submitted, eligible, deductible, coinsurance, benefit) and a CARC reason for each adjustment. The patient is
 * named by pseudonym only; amounts are FHIR decimals in the claim's currency.
 */
export const ADJUDICATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/adjudication';
/** R4's adjudication code system has no coinsurance category; ours names it. */
export const CLAIMCHAIN_ADJUDICATION_SYSTEM = 'https://claimchain.dev/fhir/CodeSystem/adjudication';
export const CARC_SYSTEM = 'https://x12.org/codes/claim-adjustment-reason-codes';
export const PSEUDONYM_SYSTEM = 'https://claimchain.dev/fhir/NamingSystem/patient-pseudonym';

export interface RemittanceInput {
  claimId: string;
  insurerId: string;
  providerId: string;
  patientPseudonym: string | null;
  /** When the decision was made (YYYY-MM-DDThh:mm:ssZ). */
  decidedAt: string;
  result: Adjudication;
  payment: { amount: string; date: string } | null;
}

type Money = { value: number; currency: string };

const OUTCOME = { approved: 'complete', partial: 'partial', denied: 'complete', pended: 'queued' } as const;

export function toClaimResponse(r: RemittanceInput): Record<string, unknown> {
  const currency = r.result.currency;
  const money = (amount: string): Money => ({ value: Number(amount), currency });
  const category = (code: string, system = ADJUDICATION_SYSTEM) => ({ coding: [{ system, code }] });
  const lineAdjudication = (l: AdjudicatedLine) => [
    { category: category('submitted'), amount: money(l.submitted) },
    { category: category('eligible'), amount: money(l.eligible) },
    { category: category('deductible'), amount: money(l.deductible) },
    { category: category('coinsurance', CLAIMCHAIN_ADJUDICATION_SYSTEM), amount: money(l.coinsurance) },
    { category: category('benefit'), amount: money(l.benefit) },
    ...l.adjustments.map((a) => {
      const [group, code] = a.reason.split('-', 2);
      return {
        category: category(group === 'PR' ? 'patient-responsibility' : 'adjustment', CLAIMCHAIN_ADJUDICATION_SYSTEM),
        reason: { coding: [{ system: CARC_SYSTEM, code, display: a.reason }] },
        amount: money(a.amount),
      };
    }),
  ];
  return {
    resourceType: 'ClaimResponse',
    id: r.claimId,
    status: 'active',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'professional' }] },
    use: 'claim',
    patient: r.patientPseudonym
      ? { identifier: { system: PSEUDONYM_SYSTEM, value: r.patientPseudonym } }
      : { display: 'unknown' },
    created: r.decidedAt,
    insurer: { reference: `Organization/${r.insurerId}` },
    requestor: { reference: `Organization/${r.providerId}` },
    request: { reference: `Claim/${r.claimId}` },
    outcome: OUTCOME[r.result.decision],
    disposition: `${r.result.decision}${r.result.review ? ' after review' : ''}`,
    item: r.result.lines.map((l) => ({ itemSequence: l.sequence, adjudication: lineAdjudication(l) })),
    total: [
      { category: category('submitted'), amount: money(r.result.submitted) },
      { category: category('eligible'), amount: money(r.result.eligible) },
      { category: category('deductible'), amount: money(r.result.deductible) },
      { category: category('coinsurance', CLAIMCHAIN_ADJUDICATION_SYSTEM), amount: money(r.result.coinsurance) },
      { category: category('benefit'), amount: money(r.result.payable) },
    ],
    ...(r.payment
      ? {
          payment: {
            type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/ex-paymenttype', code: 'complete' }] },
            date: r.payment.date,
            amount: money(r.payment.amount),
          },
        }
      : {}),
  };
}
