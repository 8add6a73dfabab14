import { claimItem } from '@claimchain/testing';
import { DEMO_CONTRACT } from '../engine/contract.definition';
import { adjudicate as adjudicateBy, POLICYLESS_ADJUDICATION_ALGORITHM } from '../engine/adjudicate';
import { toClaimResponse } from './claim-response.mapper';
import { CARC_SYSTEM } from './fhir-adjudication.mapper';

/** These specs are about the contract's mechanics, on claims without a policy: the contract alone decides (v2). */
const adjudicate = (...[contract, claim, coverage, review = null]: Parameters<typeof adjudicateBy>) =>
  adjudicateBy(contract, claim, coverage, review, POLICYLESS_ADJUDICATION_ALGORITHM);

describe(toClaimResponse.name, () => {
  it("states the claim's own type (vision), not always professional", async () => {
    const result = await adjudicate(
      DEMO_CONTRACT,
      { providerId: 'clinic-1', currency: 'EUR', patientPseudonym: null, items: [claimItem(1, '92004', '80.00')] },
      null,
    );
    const response = toClaimResponse({
      claimId: '018f0000-0000-7000-8000-0000000000cd',
      insurerId: 'insurer-1',
      providerId: 'clinic-1',
      patientPseudonym: null,
      coverage: 'policy-7',
      claimType: 'vision',
      decidedAt: '2026-11-20T10:00:00Z',
      result,
      payment: null,
    }) as { type: unknown };
    expect(response.type).toEqual({
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'vision' }],
    });
  });

  it('reports each line with its adjudication categories and a CARC reason per adjustment', async () => {
    const result = await adjudicate(
      DEMO_CONTRACT,
      {
        providerId: 'clinic-1',
        currency: 'EUR',
        patientPseudonym: 'a'.repeat(64),
        items: [claimItem(1, '99213', '120.00'), claimItem(2, '15780', '50.00')],
      },
      null,
    );
    const response = toClaimResponse({
      claimId: '018f0000-0000-7000-8000-0000000000cc',
      insurerId: 'insurer-1',
      providerId: 'clinic-1',
      patientPseudonym: 'a'.repeat(64),
      coverage: 'policy-7',
      claimType: null,
      decidedAt: '2026-11-20T10:00:00Z',
      result,
      payment: { amount: '96.00', date: '2026-11-20' },
    }) as {
      resourceType: string;
      outcome: string;
      patient: unknown;
      item: {
        itemSequence: number;
        adjudication: { category: { coding: { code: string }[] }; reason?: unknown; amount: { value: number } }[];
      }[];
      payment: { amount: { value: number; currency: string } };
    };
    expect(response).toMatchObject({
      resourceType: 'ClaimResponse',
      outcome: 'partial',
      status: 'active',
      use: 'claim',
    });
    expect(JSON.stringify(response.patient)).not.toContain('Patient/');
    const benefitOf = (i: number) =>
      response.item[i].adjudication.find((a) => a.category.coding[0].code === 'benefit')!.amount.value;
    expect([benefitOf(0), benefitOf(1)]).toEqual([96, 0]);
    expect(response.item[1].adjudication.filter((a) => a.reason)).toEqual([
      expect.objectContaining({ reason: { coding: [{ system: CARC_SYSTEM, code: '204', display: 'CO-204' }] } }),
    ]);
    expect(response.payment.amount).toEqual({ value: 96, currency: 'EUR' });
  });
});
