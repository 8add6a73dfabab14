import {
  claimTypeOf,
  disposition,
  fhirMoney,
  lineAdjudication,
  organization,
  OUTCOME,
  patientReference,
  payment,
  processNotes,
  RemittanceInput,
  totals,
} from './fhir-adjudication.mapper';

/**
 * The remittance of an adjudicated claim for the member, as an HL7 FHIR R4 ExplanationOfBenefit: the claim's lines
 * as billed (service, date, amount) with the same adjudication categories and CARC reasons as the ClaimResponse,
 * the totals, the payment once released, and a note for each pended or denied line saying why. It refers to the
 * Claim and the ClaimResponse by the claim's id and to the focal Coverage the claim named.
 */
export function toExplanationOfBenefit(r: RemittanceInput): Record<string, unknown> {
  const { notes, noteNumbers } = processNotes(r.result);
  const currency = r.result.currency;
  return {
    resourceType: 'ExplanationOfBenefit',
    id: r.claimId,
    status: 'active',
    type: claimTypeOf(r),
    use: 'claim',
    patient: patientReference(r.patientPseudonym),
    created: r.decidedAt,
    insurer: organization(r.insurerId),
    provider: organization(r.providerId),
    claim: { reference: `Claim/${r.claimId}` },
    claimResponse: { reference: `ClaimResponse/${r.claimId}` },
    outcome: OUTCOME[r.result.decision],
    disposition: disposition(r.result),
    insurance: [
      { focal: true, coverage: r.coverage ? { reference: `Coverage/${r.coverage}` } : { display: 'unknown' } },
    ],
    item: r.result.lines.map((l) => ({
      sequence: l.sequence,
      productOrService: { coding: [{ system: l.system, code: l.code }] },
      servicedDate: l.servicedDate,
      net: fhirMoney(l.submitted, currency),
      ...noteNumbers(l.sequence),
      adjudication: lineAdjudication(l, currency),
    })),
    total: totals(r.result),
    ...payment(r),
    ...(notes.length > 0 ? { processNote: notes } : {}),
  };
}
