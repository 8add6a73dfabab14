import { claimItem } from '@claimchain/testing';
import { ClaimAdjudicatedV1, ClaimSubmittedV1, ContractPublishedV1 } from '@claimchain/wire';
import { contractIdOf, DEMO_CONTRACT } from './contract.definition';
import {
  adjudicate as adjudicateBy,
  deniedUnrun,
  PEND_CONTRACT_NOT_ACTIVE,
  POLICYLESS_ADJUDICATION_ALGORITHM,
} from './adjudicate';
import { replayAdjudication, ReplayInputError, resultHashOf } from './replay';

/** These specs are about the contract's mechanics, on claims without a policy: the contract alone decides (v2). */
const adjudicate = (...[contract, claim, coverage, review = null]: Parameters<typeof adjudicateBy>) =>
  adjudicateBy(contract, claim, coverage, review, POLICYLESS_ADJUDICATION_ALGORITHM);

const claimId = '018f0000-0000-7000-8000-0000000000aa';
const claim: ClaimSubmittedV1 = {
  claimId,
  insurerId: 'insurer-1',
  providerId: 'clinic-1',
  patientPseudonym: 'e'.repeat(64),
  coverage: 'cov-1',
  currency: 'EUR',
  total: '150.50',
  items: [claimItem(1, '99213', '120.00'), claimItem(2, '15780', '30.50')],
  submittedAt: '2026-11-20T10:00:00Z',
};
const contractId = contractIdOf(DEMO_CONTRACT);
const published: ContractPublishedV1 = {
  contractId,
  insurerId: '*',
  name: DEMO_CONTRACT.name,
  version: DEMO_CONTRACT.version,
  definition: DEMO_CONTRACT as unknown as Record<string, unknown>,
  publishedAt: '2026-11-01T00:00:00Z',
};

async function decision(unverified?: { sequence: number; code: string }[]): Promise<ClaimAdjudicatedV1> {
  const result = await adjudicate(
    DEMO_CONTRACT,
    {
      providerId: 'clinic-1',
      currency: 'EUR',
      patientPseudonym: claim.patientPseudonym,
      items: claim.items,
      ...(unverified ? { unverified } : {}),
    },
    null,
  );
  return {
    claimId,
    contractId,
    policyId: null,
    verifiedEventId: '018f0000-0000-7000-8000-0000000000bb',
    decision: 'partial',
    currency: 'EUR',
    submitted: result.submitted,
    payable: result.payable,
    lines: [],
    replay: {
      algorithm: result.algorithm,
      policy: null,
      accumulatorsBefore: {},
      ...(result.unverified ? { unverified: result.unverified } : {}),
      resultHash: resultHashOf(result),
    },
    adjudicatedAt: '2026-11-20T10:01:00Z',
  };
}

describe(replayAdjudication.name, () => {
  it('reproduces the recorded result hash from the three events', async () => {
    const replayed = await replayAdjudication(published, claim, await decision());
    expect(replayed.matches).toBe(true);
    expect(replayed.result.payable).toBe('96.00');
  });

  it('reproduces a decision that denied unverified lines from the unverified lines it records', async () => {
    const recorded = await decision([{ sequence: 2, code: 'NOT_PERFORMED' }]);
    const replayed = await replayAdjudication(published, claim, recorded);
    expect(replayed.matches).toBe(true);
    expect(replayed.result.lines.map((l) => l.reasons)).toEqual([['PR-2'], ['CO-112']]);
    const { unverified: _dropped, ...withoutThem } = recorded.replay!;
    expect((await replayAdjudication(published, claim, { ...recorded, replay: withoutThem })).matches).toBe(false);
  });

  it('reproduces a reviewed decision on a claim without the attestation its contract requires', async () => {
    const requiring = {
      ...DEMO_CONTRACT,
      parameters: { ...DEMO_CONTRACT.parameters, attestationRequired: true },
    };
    const requiringId = contractIdOf(requiring);
    const review = { decision: 'approve' as const };
    const result = await adjudicate(
      requiring,
      {
        providerId: 'clinic-1',
        currency: 'EUR',
        patientPseudonym: claim.patientPseudonym,
        items: claim.items,
        unattested: true,
      },
      null,
      review,
    );
    expect(result).toMatchObject({ unattested: true, payable: '96.00' });
    const base = await decision();
    const recorded: ClaimAdjudicatedV1 = {
      ...base,
      contractId: requiringId,
      review: { reviewer: 'reviewer-1', reason: 'signed on paper', outcome: review },
      replay: { ...base.replay!, unattested: true, resultHash: resultHashOf(result) },
    };
    const contract = {
      ...published,
      contractId: requiringId,
      definition: requiring as unknown as Record<string, unknown>,
    };
    expect((await replayAdjudication(contract, claim, recorded)).matches).toBe(true);
    const { unattested: _dropped, ...withoutIt } = recorded.replay!;
    expect((await replayAdjudication(contract, claim, { ...recorded, replay: withoutIt })).matches).toBe(false);
  });

  it("replays a reviewer's denial of a claim whose contract did not run without running it", async () => {
    const input = {
      providerId: 'clinic-1',
      currency: 'EUR',
      patientPseudonym: claim.patientPseudonym,
      items: claim.items,
    };
    const result = deniedUnrun(input, null, PEND_CONTRACT_NOT_ACTIVE, 'CO-26', POLICYLESS_ADJUDICATION_ALGORITHM);
    const base = await decision();
    const recorded: ClaimAdjudicatedV1 = {
      ...base,
      decision: 'denied',
      review: { reviewer: 'reviewer-1', reason: 'before the contract', outcome: { decision: 'deny', code: 'CO-26' } },
      replay: { ...base.replay!, unrun: PEND_CONTRACT_NOT_ACTIVE, resultHash: resultHashOf(result) },
    };
    expect((await replayAdjudication(published, claim, recorded)).matches).toBe(true);
    // Without the reason the contract runs, and pays.
    const { unrun: _dropped, ...withoutIt } = recorded.replay!;
    expect((await replayAdjudication(published, claim, { ...recorded, replay: withoutIt })).matches).toBe(false);
    // A reason without a denial is not a decision this service makes.
    await expect(replayAdjudication(published, claim, { ...recorded, review: undefined })).rejects.toBeInstanceOf(
      ReplayInputError,
    );
  });

  it('reports a mismatch when the claim differs from what was decided', async () => {
    const changed = { ...claim, items: [{ ...claim.items[0], net: '121.00' }, claim.items[1]] };
    expect((await replayAdjudication(published, changed, await decision())).matches).toBe(false);
  });

  it('refuses a contract that is not the one the decision names, or does not hash to its id', async () => {
    const other = { ...published, contractId: 'f'.repeat(64) };
    await expect(replayAdjudication(other, claim, await decision())).rejects.toBeInstanceOf(ReplayInputError);
    const forged = { ...published, definition: { ...published.definition, name: 'forged' } };
    await expect(replayAdjudication(forged, claim, await decision())).rejects.toBeInstanceOf(ReplayInputError);
  });
});
