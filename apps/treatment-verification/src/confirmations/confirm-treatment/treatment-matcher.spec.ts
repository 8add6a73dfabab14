import { ClaimSubmittedV1 } from '@claimchain/contracts';
import { matchTreatments } from './treatment-matcher';

const CPT = 'http://www.ama-assn.org/go/cpt';
const line = (
  sequence: number,
  code: string,
  quantity = 1,
  servicedDate = '2026-11-20',
): ClaimSubmittedV1['items'][number] => ({
  sequence,
  system: CPT,
  code,
  servicedDate,
  quantity,
  unitPrice: '10.00',
  net: (10 * quantity).toFixed(2),
});

describe(matchTreatments.name, () => {
  it('verifies a claim whose every line was performed on its date in full', () => {
    const result = matchTreatments(
      [line(1, '99213'), line(2, '85025', 2)],
      [
        { system: CPT, code: '85025', quantity: 2, performedAt: '2026-11-20' },
        { system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-20' },
      ],
    );
    expect(result).toEqual({
      outcome: 'verified',
      items: [
        { sequence: 1, system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-20' },
        { sequence: 2, system: CPT, code: '85025', quantity: 2, performedAt: '2026-11-20' },
      ],
    });
  });

  it('rejects a line that was never performed, naming the line', () => {
    const result = matchTreatments(
      [line(1, '99213'), line(2, '85025')],
      [{ system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-20' }],
    );
    expect(result).toEqual({
      outcome: 'rejected',
      reasons: [expect.objectContaining({ sequence: 2, code: 'NOT_PERFORMED' })],
    });
  });

  it('rejects a line performed on another day', () => {
    const result = matchTreatments(
      [line(1, '99213')],
      [{ system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-19' }],
    );
    expect(result).toEqual({
      outcome: 'rejected',
      reasons: [expect.objectContaining({ sequence: 1, code: 'DATE_MISMATCH' })],
    });
  });

  it('rejects a line performed fewer times than claimed', () => {
    const result = matchTreatments(
      [line(1, '85025', 3)],
      [{ system: CPT, code: '85025', quantity: 2, performedAt: '2026-11-20' }],
    );
    expect(result).toEqual({
      outcome: 'rejected',
      reasons: [expect.objectContaining({ sequence: 1, code: 'QUANTITY_SHORT' })],
    });
  });

  it('does not let one performance confirm two claimed lines', () => {
    const result = matchTreatments(
      [line(1, '99213'), line(2, '99213')],
      [{ system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-20' }],
    );
    expect(result).toEqual({
      outcome: 'rejected',
      reasons: [expect.objectContaining({ sequence: 2, code: 'QUANTITY_SHORT' })],
    });
  });

  it('treats the same code under another system as a different service', () => {
    const result = matchTreatments(
      [line(1, '99213')],
      [{ system: 'http://snomed.info/sct', code: '99213', quantity: 1, performedAt: '2026-11-20' }],
    );
    expect(result.outcome).toBe('rejected');
  });
});
