import { claimIdOf, subjectMismatchOf } from './claim-id';

const claimId = '0190f0e0-0000-7000-8000-000000000001';
const contractId = 'c'.repeat(64);

describe(claimIdOf.name, () => {
  it("reads a claim event's claim from its subject", () => {
    expect(claimIdOf({ subject: claimId })).toBe(claimId);
  });
});

describe(subjectMismatchOf.name, () => {
  it('accepts a claim event whose subject is its data.claimId, and an event that names no claim', () => {
    expect(subjectMismatchOf({ subject: claimId, data: { claimId } })).toBeUndefined();
    expect(subjectMismatchOf({ subject: contractId, data: {} })).toBeUndefined();
  });

  it('names both values when a claim event disagrees with itself', () => {
    expect(subjectMismatchOf({ subject: 'other', data: { claimId } })).toBe(
      `subject other differs from /data/claimId ${claimId}`,
    );
  });

  it('accepts a ledger notice, whose subject names its checkpoint part and whose entries name their own events', () => {
    const notice = { subject: 'origin/12/1', data: { origin: 'origin', entries: [{ eventSubject: claimId }] } };
    expect(subjectMismatchOf(notice)).toBeUndefined();
  });
});
