import { claimItem } from '@claimchain/testing';
import { ContractDefinition, DEMO_CONTRACT } from '../engine/contract.definition';
import { adjudicate as adjudicateBy, POLICYLESS_ADJUDICATION_ALGORITHM, Adjudication } from '../engine/adjudicate';
import { toClaimResponse } from './claim-response.mapper';
import { toExplanationOfBenefit } from './explanation-of-benefit.mapper';
import { CARC_SYSTEM, PSEUDONYM_SYSTEM, RemittanceInput } from './fhir-adjudication.mapper';

/** These specs are about the contract's mechanics, on claims without a policy: the contract alone decides (v2). */
const adjudicate = (...[contract, claim, coverage, review = null]: Parameters<typeof adjudicateBy>) =>
  adjudicateBy(contract, claim, coverage, review, POLICYLESS_ADJUDICATION_ALGORITHM);

const CLAIM_ID = '018f0000-0000-7000-8000-0000000000cc';
const MEMBER = 'a'.repeat(64);

interface Eob {
  outcome: string;
  patient: unknown;
  claim: unknown;
  claimResponse: unknown;
  provider: unknown;
  insurance: unknown;
  item: {
    sequence: number;
    productOrService: unknown;
    servicedDate: string;
    net: unknown;
    noteNumber?: number[];
    adjudication: { category: { coding: { code: string }[] }; reason?: unknown; amount: { value: number } }[];
  }[];
  processNote?: { number: number; text: string }[];
  payment?: { amount: unknown; date: string };
}

const adjudicated = (items: ReturnType<typeof claimItem>[], contract: ContractDefinition = DEMO_CONTRACT) =>
  adjudicate(contract, { providerId: 'clinic-1', currency: 'EUR', patientPseudonym: MEMBER, items }, null);

const remittance = (result: Adjudication, paid: string | null): RemittanceInput => ({
  claimId: CLAIM_ID,
  insurerId: 'insurer-1',
  providerId: 'clinic-1',
  patientPseudonym: MEMBER,
  coverage: 'policy-7',
  claimType: null,
  decidedAt: '2026-11-20T10:00:00.000Z',
  result,
  payment: paid ? { amount: paid, date: '2026-11-21' } : null,
});

describe(toExplanationOfBenefit.name, () => {
  it('lists the lines as billed, each with the same adjudication as the ClaimResponse gives it', async () => {
    const input = remittance(
      await adjudicated([claimItem(1, '99213', '120.00'), claimItem(2, '15780', '50.00')]),
      '96.00',
    );
    const eob = toExplanationOfBenefit(input) as unknown as Eob;
    const response = toClaimResponse(input) as { item: { adjudication: unknown }[] };
    expect(
      eob.item.map(({ sequence, productOrService, servicedDate, net }) => [
        sequence,
        productOrService,
        servicedDate,
        net,
      ]),
    ).toEqual([
      [
        1,
        { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '99213' }] },
        '2026-11-20',
        { value: 120, currency: 'EUR' },
      ],
      [
        2,
        { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '15780' }] },
        '2026-11-20',
        { value: 50, currency: 'EUR' },
      ],
    ]);
    expect(eob.item.map((i) => i.adjudication)).toEqual(response.item.map((i) => i.adjudication));
    const categories = eob.item[0].adjudication.map((a) => [a.category.coding[0].code, a.amount.value]);
    expect(categories).toEqual([
      ['submitted', 120],
      ['eligible', 120],
      ['deductible', 0],
      ['coinsurance', 24],
      ['benefit', 96],
      ['patient-responsibility', 24],
    ]);
  });

  it('names the member by pseudonym, and refers to the claim, its ClaimResponse and the focal coverage', async () => {
    const eob = toExplanationOfBenefit(
      remittance(await adjudicated([claimItem(1, '99213', '120.00')]), '96.00'),
    ) as unknown as Eob;
    expect(eob).toMatchObject({
      resourceType: 'ExplanationOfBenefit',
      status: 'active',
      use: 'claim',
      outcome: 'complete',
      patient: { identifier: { system: PSEUDONYM_SYSTEM, value: MEMBER } },
      provider: { reference: 'Organization/clinic-1' },
      claim: { reference: `Claim/${CLAIM_ID}` },
      claimResponse: { reference: `ClaimResponse/${CLAIM_ID}` },
      insurance: [{ focal: true, coverage: { reference: 'Coverage/policy-7' } }],
      payment: { amount: { value: 96, currency: 'EUR' }, date: '2026-11-21' },
    });
    expect(JSON.stringify(eob)).not.toContain('Patient/');
    expect(eob.processNote).toBeUndefined();
  });

  it('says why a line is not paid, with its CARC reason, in a note the line refers to', async () => {
    const eob = toExplanationOfBenefit(
      remittance(await adjudicated([claimItem(1, '99213', '120.00'), claimItem(2, '15780', '50.00')]), '96.00'),
    ) as unknown as Eob;
    expect(eob.outcome).toBe('partial');
    expect(eob.processNote).toEqual([
      {
        number: 1,
        type: 'display',
        text: "Line 2 is not paid: CO-204 the service is not covered under the member's current benefit plan.",
      },
    ]);
    expect(eob.item.map((i) => i.noteNumber)).toEqual([undefined, [1]]);
    expect(eob.item[1].adjudication.filter((a) => a.reason)).toEqual([
      expect.objectContaining({ reason: { coding: [{ system: CARC_SYSTEM, code: '204', display: 'CO-204' }] } }),
    ]);
  });

  it('shows a pended claim as queued, with why each pended line waits and no payment', async () => {
    const pendAbove80: ContractDefinition = {
      ...DEMO_CONTRACT,
      parameters: {
        ...DEMO_CONTRACT.parameters,
        perCodeLimits: [{ code: 'http://www.ama-assn.org/go/cpt|99213', maxAmount: '80.00', action: 'pend' }],
      },
    };
    const eob = toExplanationOfBenefit(
      remittance(
        await adjudicated([claimItem(1, '85025', '20.00'), claimItem(2, '99213', '100.00')], pendAbove80),
        null,
      ),
    ) as unknown as Eob;
    expect(eob.outcome).toBe('queued');
    expect(eob.processNote).toEqual([
      { number: 1, type: 'display', text: 'Line 2 is pended for review (CO-133): per-code-limit:80.00.' },
    ]);
    expect(eob.item.map((i) => i.noteNumber)).toEqual([undefined, [1]]);
    expect(eob.payment).toBeUndefined();
  });

  it("states the claim's own type (pharmacy), and professional for a claim announced before the type was", async () => {
    const result = await adjudicated([claimItem(1, '99213', '10.00')]);
    const typeOf = (claimType: string | null) =>
      (toExplanationOfBenefit({ ...remittance(result, '8.00'), claimType }) as { type: unknown }).type;
    const system = 'http://terminology.hl7.org/CodeSystem/claim-type';
    expect(typeOf('pharmacy')).toEqual({ coding: [{ system, code: 'pharmacy' }] });
    expect(typeOf(null)).toEqual({ coding: [{ system, code: 'professional' }] });
  });

  it('refers to an unknown coverage by display when the claim was stored without one', async () => {
    const input = { ...remittance(await adjudicated([claimItem(1, '99213', '10.00')]), '8.00'), coverage: null };
    expect((toExplanationOfBenefit(input) as unknown as Eob).insurance).toEqual([
      { focal: true, coverage: { display: 'unknown' } },
    ]);
  });
});
