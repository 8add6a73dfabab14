import { claimIdOf, subjectMismatchOf } from './claim-id';

const claimId = '0190f0e0-0000-7000-8000-000000000001';
const contractId = 'c'.repeat(64);

describe(claimIdOf.name, () => {
  it("reads a claim event's claim from its subject", () => {
    expect(claimIdOf({ type: 'claim.cancelled', subject: claimId, data: { claimId } })).toBe(claimId);
  });

  it("reads an anchor's claim from the anchored event's subject", () => {
    const anchor = { type: 'ledger.anchored', subject: claimId, data: { eventSubject: claimId } };
    expect(claimIdOf(anchor)).toBe(claimId);
  });
});

describe(subjectMismatchOf.name, () => {
  it('accepts a claim event whose subject is its data.claimId, and an event that names no claim', () => {
    expect(subjectMismatchOf({ type: 'payout.released', subject: claimId, data: { claimId } })).toBeUndefined();
    expect(subjectMismatchOf({ type: 'contract.published', subject: contractId, data: {} })).toBeUndefined();
  });

  it('names both values when a claim event disagrees with itself', () => {
    expect(subjectMismatchOf({ type: 'payout.released', subject: 'other', data: { claimId } })).toBe(
      `subject other differs from /data/claimId ${claimId}`,
    );
  });

  it("holds an anchor's subject to the anchored event's", () => {
    const anchor = { type: 'ledger.anchored', subject: contractId, data: { eventSubject: claimId } };
    expect(subjectMismatchOf(anchor)).toMatch(/differs from \/data\/eventSubject/);
  });
});
