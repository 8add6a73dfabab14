import { v4 as uuidv4 } from 'uuid';
import { buildEvent } from '@claimchain/messaging';
import { ClaimPendedV1, Topics } from '@claimchain/wire';
import { CPT } from '@claimchain/testing';
import { isProviderActionable } from './payout-answers.consumer';

const pended = (pendReasons: string[][], confirmationId: string | null = uuidv4()) => {
  const claimId = uuidv4();
  const data: ClaimPendedV1 = {
    claimId,
    contractId: 'c'.repeat(64),
    policyId: null,
    verifiedEventId: uuidv4(),
    ...(confirmationId ? { confirmationId } : {}),
    lines: pendReasons.map((reasons, i) => ({
      sequence: i + 1,
      system: CPT,
      code: '99213',
      reasons: ['CO-133'],
      pendReasons: reasons,
    })),
    pendedAt: new Date().toISOString(),
  };
  return buildEvent(Topics.ClaimsPended, { source: 'claimchain/payout', subject: claimId, data });
};

describe(isProviderActionable.name, () => {
  it('takes a claim pended for want of the provider’s attestation, on a line or more', () => {
    expect(isProviderActionable(pended([['attestation-missing']]))).toBe(true);
    expect(
      isProviderActionable(pended([['per-code-limit:100.00'], ['attestation-missing', 'currency-mismatch']])),
    ).toBe(true);
  });

  it('leaves every other pend to the insurer: it never reaches a transaction here', () => {
    expect(isProviderActionable(pended([['per-code-limit:100.00'], ['contract-timeout']]))).toBe(false);
    // Pended before payout named the confirmation: nothing to attach the reason to.
    expect(isProviderActionable(pended([['attestation-missing']], null))).toBe(false);
  });
});
