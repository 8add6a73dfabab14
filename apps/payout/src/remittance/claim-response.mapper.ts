import {
  claimTypeOf,
  disposition,
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
 * The remittance of an adjudicated claim for the insurer and provider, as an HL7 FHIR R4 ClaimResponse: per line
 * the adjudication categories (submitted, eligible, deductible, coinsurance, benefit) and a CARC reason for each
 * adjustment, a note for each pended or denied line, and the payment once released. The patient is named by
 * pseudonym only; amounts are FHIR decimals in the claim's currency.
 */
export function toClaimResponse(r: RemittanceInput): Record<string, unknown> {
  const { notes, noteNumbers } = processNotes(r.result);
  return {
    resourceType: 'ClaimResponse',
    id: r.claimId,
    status: 'active',
    type: claimTypeOf(r),
    use: 'claim',
    patient: patientReference(r.patientPseudonym),
    created: r.decidedAt,
    insurer: organization(r.insurerId),
    requestor: organization(r.providerId),
    request: { reference: `Claim/${r.claimId}` },
    outcome: OUTCOME[r.result.decision],
    disposition: disposition(r.result),
    item: r.result.lines.map((l) => ({
      itemSequence: l.sequence,
      ...noteNumbers(l.sequence),
      adjudication: lineAdjudication(l, r.result.currency),
    })),
    total: totals(r.result),
    ...payment(r),
    ...(notes.length > 0 ? { processNote: notes } : {}),
  };
}
