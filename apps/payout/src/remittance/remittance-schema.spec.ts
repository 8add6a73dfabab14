import { claimItem, fhirR4SchemaErrors } from '@claimchain/testing';
import { ContractDefinition, DEMO_CONTRACT } from '../engine/contract.definition';
import {
  adjudicate as adjudicateBy,
  POLICYLESS_ADJUDICATION_ALGORITHM,
  Adjudication,
  ClaimToAdjudicate,
  PolicyContext,
} from '../engine/adjudicate';
import { toClaimResponse } from './claim-response.mapper';
import { toExplanationOfBenefit } from './explanation-of-benefit.mapper';
import { RemittanceInput } from './fhir-adjudication.mapper';

/** These specs are about the contract's mechanics, on claims without a policy: the contract alone decides (v2). */
const adjudicate = (...[contract, claim, coverage, review = null]: Parameters<typeof adjudicateBy>) =>
  adjudicateBy(contract, claim, coverage, review, POLICYLESS_ADJUDICATION_ALGORITHM);

const MEMBER = 'a'.repeat(64);

const claim = (items: ClaimToAdjudicate['items'], providerId = 'clinic-1'): ClaimToAdjudicate => ({
  providerId,
  currency: 'EUR',
  patientPseudonym: MEMBER,
  items,
});

const onPolicy = (accumulators: PolicyContext['accumulators'] = {}): PolicyContext => ({
  policy: {
    id: '018f0000-0000-7000-8000-000000000001',
    contractId: 'c'.repeat(64),
    memberPseudonym: MEMBER,
    start: '2026-01-01',
    end: '2026-12-31',
  },
  accumulators,
});

/** The golden contract of the adjudication spec: pays every line at 20% coinsurance, 15780 excluded. */
const contract = (parameters: Partial<ContractDefinition['parameters']> = {}): ContractDefinition => ({
  insurerId: 'insurer-1',
  name: 'golden',
  version: '1',
  parameters: {
    currency: 'EUR',
    coinsurancePercent: 20,
    excludedCodes: ['http://www.ama-assn.org/go/cpt|15780'],
    ...parameters,
  },
  rules: [
    {
      name: 'covered',
      conditions: { all: [{ fact: 'quantity', operator: 'greaterThan', value: 0 }] },
      event: { type: 'pay-line' },
    },
  ],
});

const network = (outOfNetwork: NonNullable<ContractDefinition['parameters']['network']>['outOfNetwork']) => ({
  network: { providers: ['clinic-in'], outOfNetwork },
});

/** The golden adjudication cases (adjudicate.spec.ts), each with the decision it must reach. */
const GOLDEN: [string, Adjudication['decision'], () => Promise<Adjudication>][] = [
  [
    'approved',
    'approved',
    () => adjudicate(DEMO_CONTRACT, claim([claimItem(1, '99213', '120.00'), claimItem(2, '85025', '30.50')]), null),
  ],
  [
    'partial (one line excluded)',
    'partial',
    () => adjudicate(DEMO_CONTRACT, claim([claimItem(1, '99213', '100.00'), claimItem(2, '15780', '900.00')]), null),
  ],
  ['denied', 'denied', () => adjudicate(DEMO_CONTRACT, claim([claimItem(1, '15780', '900.00')]), null)],
  [
    'pended for review',
    'pended',
    () =>
      adjudicate(
        contract({
          perCodeLimits: [{ code: 'http://www.ama-assn.org/go/cpt|99213', maxAmount: '80.00', action: 'pend' }],
          deductible: '10.00',
        }),
        claim([claimItem(1, '85025', '20.00'), claimItem(2, '99213', '100.00')]),
        onPolicy(),
      ),
  ],
  [
    'deductible crossed within the claim',
    'approved',
    () =>
      adjudicate(
        contract({ deductible: '150.00' }),
        claim([claimItem(1, '99213', '100.00'), claimItem(2, '85025', '100.00')]),
        onPolicy({ '2026-01-01': { deductibleMet: '20.00', benefitPaid: '0.00' } }),
      ),
  ],
  [
    'annual limit reached mid-claim',
    'partial',
    () =>
      adjudicate(
        contract({ annualLimit: '1000.00', coinsurancePercent: 0 }),
        claim([claimItem(1, 'A1', '30.00'), claimItem(2, 'A2', '50.00'), claimItem(3, 'A3', '40.00')]),
        onPolicy({ '2026-01-01': { deductibleMet: '0.00', benefitPaid: '950.00' } }),
      ),
  ],
  ['excluded code', 'denied', () => adjudicate(contract(), claim([claimItem(1, '15780', '500.00')]), onPolicy())],
  [
    'out of network at 50% coinsurance',
    'approved',
    () =>
      adjudicate(
        contract(network({ action: 'coinsurance', coinsurancePercent: 50 })),
        claim([claimItem(1, 'A', '100.00')], 'clinic-out'),
        null,
      ),
  ],
  [
    'out of network denied',
    'denied',
    () => adjudicate(contract(network({ action: 'deny' })), claim([claimItem(1, 'A', '100.00')], 'clinic-out'), null),
  ],
  [
    'pended lines denied on review',
    'partial',
    () =>
      adjudicate(
        contract({
          perCodeLimits: [{ code: 'http://www.ama-assn.org/go/cpt|99213', maxAmount: '80.00', action: 'pend' }],
        }),
        claim([claimItem(1, '85025', '20.00'), claimItem(2, '99213', '100.00')]),
        onPolicy(),
        { decision: 'deny', code: 'CO-50' },
      ),
  ],
];

function remittanceOf(result: Adjudication): RemittanceInput {
  const paid = result.decision !== 'pended' && result.payable !== '0.00';
  return {
    claimId: '018f0000-0000-7000-8000-0000000000cc',
    insurerId: 'insurer-1',
    providerId: result.lines[0].inNetwork ? 'clinic-1' : 'clinic-out',
    patientPseudonym: MEMBER,
    coverage: 'policy-7',
    claimType: 'institutional',
    decidedAt: '2026-11-20T10:00:00.000Z',
    result,
    payment: paid ? { amount: result.payable, date: '2026-11-20' } : null,
  };
}

describe('remittance resources against the HL7 FHIR R4 JSON schema', () => {
  describe.each([
    ['ClaimResponse', toClaimResponse],
    ['ExplanationOfBenefit', toExplanationOfBenefit],
  ])('%s', (resourceType, toResource) => {
    it.each(GOLDEN)('is valid R4 for the golden case: %s', async (_name, decision, run) => {
      const result = await run();
      expect(result.decision).toBe(decision);
      const resource = toResource(remittanceOf(result));
      expect(resource.resourceType).toBe(resourceType);
      expect(fhirR4SchemaErrors(resource)).toEqual([]);
    });
  });

  describe('the validator', () => {
    let valid: Record<string, unknown>;
    beforeAll(async () => {
      valid = toExplanationOfBenefit(remittanceOf(await GOLDEN[1][2]()));
    });

    it('rejects a wrongly typed element, naming where it is', () => {
      const eob = structuredClone(valid) as { item: { sequence: unknown; net: { value: unknown } }[] };
      eob.item[0].sequence = '1';
      eob.item[1].net.value = '900.00';
      expect(fhirR4SchemaErrors(eob)).toEqual([
        '/item/0/sequence: must be number',
        '/item/1/net/value: must be number',
      ]);
    });

    it('rejects a missing required element and an element R4 does not have', () => {
      const { insurance: _dropped, ...eob } = valid;
      expect(fhirR4SchemaErrors({ ...eob, paidTo: 'me' })).toEqual([
        "/: must have required property 'insurance'",
        '/: unknown element "paidTo"',
      ]);
    });

    it("rejects what only Medplum's copy of the schema allows (its Meta elements and resource types)", () => {
      expect(fhirR4SchemaErrors({ ...valid, meta: { project: 'p-1' } })).toEqual(['/meta: unknown element "project"']);
      expect(fhirR4SchemaErrors({ resourceType: 'Bot', name: 'x' })).toEqual([
        '/resourceType: "Bot" is not an R4 resource type',
      ]);
    });
  });
});
