import { v4 as uuidv4 } from 'uuid';
import { Topics } from '@claimchain/wire';
import { EventDraft } from '@claimchain/messaging';

/** Test data shared by the integration and end-to-end specs: one realistic claim, as FHIR and as an event. */
export const CPT = 'http://www.ama-assn.org/go/cpt';

/** The FHIR R4 Claim an insurer's system would send: one office visit and one lab test. */
export function fhirClaim(patient: string, insurer = 'insurer-e2e', provider = 'clinic-e2e') {
  return {
    resourceType: 'Claim',
    status: 'active',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'professional' }] },
    use: 'claim',
    patient: { reference: `Patient/${patient}` },
    created: '2026-11-20',
    insurer: { reference: `Organization/${insurer}` },
    provider: { reference: `Organization/${provider}` },
    priority: { coding: [{ code: 'normal' }] },
    insurance: [{ sequence: 1, focal: true, coverage: { reference: 'Coverage/policy-e2e' } }],
    item: [
      {
        sequence: 1,
        productOrService: { coding: [{ system: CPT, code: '99213' }] },
        servicedDate: '2026-11-20',
        quantity: { value: 1 },
        unitPrice: { value: 120.0, currency: 'EUR' },
        net: { value: 120.0, currency: 'EUR' },
      },
      {
        sequence: 2,
        productOrService: { coding: [{ system: CPT, code: '85025' }] },
        servicedDate: '2026-11-20',
        quantity: { value: 2 },
        unitPrice: { value: 15.25, currency: 'EUR' },
        net: { value: 30.5, currency: 'EUR' },
      },
    ],
    total: { value: 150.5, currency: 'EUR' },
  };
}

/** What a provider confirms for a `fhirClaim`: exactly its two lines, performed on their serviced date. */
export function fhirClaimTreatments() {
  return [
    { system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-20' },
    { system: CPT, code: '85025', quantity: 2, performedAt: '2026-11-20' },
  ];
}

/** A valid `claims.submitted.v1` draft for `claimId` (one 10.00 EUR office visit), as claim-intake would send. */
export function claimSubmittedDraft(
  claimId: string = uuidv4(),
  overrides: { insurerId?: string; providerId?: string; source?: string } = {},
): EventDraft<typeof Topics.ClaimsSubmitted> {
  const insurerId = overrides.insurerId ?? 'insurer-test';
  return {
    source: overrides.source ?? 'test/fixtures',
    subject: claimId,
    tenantid: insurerId,
    data: {
      claimId,
      insurerId,
      providerId: overrides.providerId ?? 'provider-test',
      patientPseudonym: 'a'.repeat(64),
      coverage: 'policy-1',
      currency: 'EUR',
      total: '10.00',
      items: [
        {
          sequence: 1,
          system: CPT,
          code: '99213',
          servicedDate: '2026-11-20',
          quantity: 1,
          unitPrice: '10.00',
          net: '10.00',
        },
      ],
      submittedAt: new Date().toISOString(),
    },
  };
}

/** One CPT line of a `claims.submitted.v1` claim, served on 2026-11-20, quantity 1 at `net`. */
export function claimItem(sequence: number, code: string, net: string) {
  return { sequence, system: CPT, code, servicedDate: '2026-11-20', quantity: 1, unitPrice: net, net };
}

/**
 * A contract body to publish (`POST /v1/contracts`): pays 80 % of every line, but sends an office visit above 100.00
 * (the `fhirClaim`'s is 120.00) to a reviewer, pending it `per-code-limit:100.00`.
 */
export function reviewAbove100Contract() {
  return {
    name: 'review-above-100',
    version: '1',
    parameters: {
      currency: 'EUR',
      coinsurancePercent: 20,
      excludedCodes: [],
      perCodeLimits: [{ code: `${CPT}|99213`, maxAmount: '100.00', action: 'pend' }],
    },
    rules: [
      {
        name: 'covered',
        conditions: { all: [{ fact: 'quantity', operator: 'greaterThan', value: 0 }] },
        event: { type: 'pay-line' },
      },
    ],
  };
}
