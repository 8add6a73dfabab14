import { ClaimSubmittedV1 } from '@claimchain/wire';
import { matchTreatments, PerformedTreatment } from './treatment-matcher';

const CPT = 'http://www.ama-assn.org/go/cpt';
const SNOMED = 'http://snomed.info/sct';
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
const done = (code: string, quantity = 1, performedAt = '2026-11-20', system = CPT): PerformedTreatment => ({
  system,
  code,
  quantity,
  performedAt,
});
const verifiedLine = (sequence: number, code: string, quantity = 1, performedAt = '2026-11-20') => ({
  sequence,
  system: CPT,
  code,
  quantity,
  performedAt,
});
const tolerance = (days: number) => ({ dateToleranceDays: days });

describe(matchTreatments.name, () => {
  describe('codes', () => {
    it('verifies a claim whose every line was performed on its date in full, with nothing left over', () => {
      expect(matchTreatments([line(1, '99213'), line(2, '85025', 2)], [done('85025', 2), done('99213')])).toEqual({
        outcome: 'verified',
        items: [verifiedLine(1, '99213'), verifiedLine(2, '85025', 2)],
        unverified: [],
        unclaimed: [],
      });
    });

    it('leaves a line that was never performed unverified (NOT_PERFORMED) and verifies the others', () => {
      const result = matchTreatments([line(1, '99213'), line(2, '85025')], [done('99213')]);
      expect(result.outcome).toBe('verified');
      expect(result.items).toEqual([verifiedLine(1, '99213')]);
      expect(result.unverified).toEqual([expect.objectContaining({ sequence: 2, code: 'NOT_PERFORMED' })]);
    });

    it('treats the same code under another system as a different service (NOT_PERFORMED)', () => {
      const result = matchTreatments([line(1, '99213')], [done('99213', 1, '2026-11-20', SNOMED)]);
      expect(result.outcome).toBe('rejected');
      expect(result.unverified).toEqual([expect.objectContaining({ sequence: 1, code: 'NOT_PERFORMED' })]);
      expect(result.unclaimed).toEqual([done('99213', 1, '2026-11-20', SNOMED)]);
    });

    it('rejects a claim none of whose lines was performed', () => {
      const result = matchTreatments([line(1, '99213'), line(2, '85025')], [done('36415')]);
      expect(result.outcome).toBe('rejected');
      expect(result.items).toEqual([]);
      expect(result.unverified.map((r) => [r.sequence, r.code])).toEqual([
        [1, 'NOT_PERFORMED'],
        [2, 'NOT_PERFORMED'],
      ]);
    });
  });

  describe('quantities', () => {
    it('verifies a line performed more times than claimed, and reports the rest as unclaimed', () => {
      const result = matchTreatments([line(1, '85025', 2)], [done('85025', 3)]);
      expect(result.items).toEqual([verifiedLine(1, '85025', 2)]);
      expect(result.unclaimed).toEqual([done('85025', 1)]);
    });

    it('adds up several performances of the code on the date', () => {
      const result = matchTreatments([line(1, '85025', 3)], [done('85025', 1), done('85025', 2)]);
      expect(result.items).toEqual([verifiedLine(1, '85025', 3)]);
      expect(result.unclaimed).toEqual([]);
    });

    it('leaves a line performed fewer times than claimed unverified (QUANTITY_SHORT), never partly verified', () => {
      const result = matchTreatments([line(1, '85025', 3)], [done('85025', 2)]);
      expect(result.outcome).toBe('rejected');
      expect(result.unverified).toEqual([expect.objectContaining({ sequence: 1, code: 'QUANTITY_SHORT' })]);
      expect(result.unclaimed).toEqual([done('85025', 2)]);
    });

    it('does not let one performance verify two claimed lines', () => {
      const result = matchTreatments([line(1, '99213'), line(2, '99213')], [done('99213')]);
      expect(result.items).toEqual([verifiedLine(1, '99213')]);
      expect(result.unverified).toEqual([expect.objectContaining({ sequence: 2, code: 'QUANTITY_SHORT' })]);
    });
  });

  describe('dates', () => {
    it('with no tolerance (the default), leaves a line performed the day before unverified (DATE_MISMATCH)', () => {
      const result = matchTreatments([line(1, '99213')], [done('99213', 1, '2026-11-19')]);
      expect(result.outcome).toBe('rejected');
      expect(result.unverified).toEqual([expect.objectContaining({ sequence: 1, code: 'DATE_MISMATCH' })]);
    });

    it('verifies a line performed exactly at the tolerance, either side, naming the date it was performed', () => {
      const before = matchTreatments([line(1, '99213')], [done('99213', 1, '2026-11-18')], tolerance(2));
      const after = matchTreatments([line(1, '99213')], [done('99213', 1, '2026-11-22')], tolerance(2));
      expect(before.items).toEqual([verifiedLine(1, '99213', 1, '2026-11-18')]);
      expect(after.items).toEqual([verifiedLine(1, '99213', 1, '2026-11-22')]);
    });

    it('leaves a line performed one day beyond the tolerance unverified (DATE_MISMATCH)', () => {
      const result = matchTreatments([line(1, '99213')], [done('99213', 1, '2026-11-23')], tolerance(2));
      expect(result.outcome).toBe('rejected');
      expect(result.unverified).toEqual([
        expect.objectContaining({ sequence: 1, code: 'DATE_MISMATCH', message: expect.stringContaining('± 2 day') }),
      ]);
      expect(result.unclaimed).toEqual([done('99213', 1, '2026-11-23')]);
    });

    it('uses the performance nearest the serviced date first, so a later line can still use the other', () => {
      const result = matchTreatments(
        [line(1, '99213', 1, '2026-11-20'), line(2, '99213', 1, '2026-11-22')],
        [done('99213', 1, '2026-11-21'), done('99213', 1, '2026-11-20')],
        tolerance(1),
      );
      expect(result.items).toEqual([
        verifiedLine(1, '99213', 1, '2026-11-20'),
        verifiedLine(2, '99213', 1, '2026-11-21'),
      ]);
    });

    it('counts only performances within the tolerance toward a quantity (QUANTITY_SHORT)', () => {
      const result = matchTreatments(
        [line(1, '85025', 2)],
        [done('85025', 1, '2026-11-21'), done('85025', 1, '2026-11-25')],
        tolerance(1),
      );
      expect(result.unverified).toEqual([expect.objectContaining({ sequence: 1, code: 'QUANTITY_SHORT' })]);
    });
  });

  describe('partial lines and extra items', () => {
    it('verifies some lines and says why each other line is not, in sequence order', () => {
      const result = matchTreatments(
        [line(3, '85025', 2), line(1, '99213'), line(2, '36415', 1, '2026-11-18'), line(4, '80053')],
        [done('99213'), done('36415', 1, '2026-11-19'), done('85025', 1)],
      );
      expect(result.outcome).toBe('verified');
      expect(result.items).toEqual([verifiedLine(1, '99213')]);
      expect(result.unverified.map((r) => [r.sequence, r.code])).toEqual([
        [2, 'DATE_MISMATCH'],
        [3, 'QUANTITY_SHORT'],
        [4, 'NOT_PERFORMED'],
      ]);
    });

    it('reports performed items the claim does not list as unclaimed, with their quantities and dates', () => {
      const result = matchTreatments([line(1, '99213')], [done('99213'), done('36415', 2, '2026-11-21')]);
      expect(result.outcome).toBe('verified');
      expect(result.unverified).toEqual([]);
      expect(result.unclaimed).toEqual([done('36415', 2, '2026-11-21')]);
    });
  });
});
