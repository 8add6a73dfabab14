import { LedgerError } from './ledger.errors';
import { consistencyProofRefs, inclusionProofRefs, rootRefs, subtreeRefsForRange } from './proof.planner';
import { nodeIdVectors, toRefs } from '../test/vectors';

const ref = (level: number, index: number) => ({ level, index });

describe(subtreeRefsForRange.name, () => {
  it('is empty for an empty range', () => {
    expect(subtreeRefsForRange(5, 5)).toEqual([]);
  });

  it('is one node for an aligned power-of-two range', () => {
    expect(subtreeRefsForRange(8, 16)).toEqual([ref(3, 1)]);
  });

  it('splits a right-edge range into its set bits, largest first', () => {
    expect(subtreeRefsForRange(64, 95)).toEqual([ref(4, 4), ref(3, 10), ref(2, 22), ref(1, 46), ref(0, 94)]);
  });

  it('covers an unaligned range with the fewest aligned nodes, left to right', () => {
    expect(subtreeRefsForRange(3, 13)).toEqual([ref(0, 3), ref(2, 1), ref(2, 2), ref(0, 12)]);
  });

  it('stays exact beyond 2^32, where bitwise operators would truncate', () => {
    const begin = 2 ** 40;
    expect(subtreeRefsForRange(begin, begin + 2 ** 33 + 1)).toEqual([ref(33, 2 ** 7), ref(0, begin + 2 ** 33)]);
  });

  it('rejects a range that ends before it begins', () => {
    expect(() => subtreeRefsForRange(4, 3)).toThrow(expect.objectContaining({ code: 'LEDGER.SIZES_OUT_OF_ORDER' }));
  });
});

describe(rootRefs.name, () => {
  it('needs no node for the empty tree', () => {
    expect(rootRefs(0)).toEqual([]);
  });

  it('names one perfect subtree per set bit of the size', () => {
    expect(rootRefs(13)).toEqual([ref(3, 0), ref(2, 2), ref(0, 12)]);
  });

  it.each([-1, 1.5, NaN, 2 ** 53])('rejects the size %p', (size) => {
    expect(() => rootRefs(size)).toThrow(expect.objectContaining({ code: 'LEDGER.SIZE_INVALID' }));
  });
});

describe(inclusionProofRefs.name, () => {
  it.each(nodeIdVectors.inclusion)('matches transparency-dev for leaf $index of $size', ({ size, index, elements }) => {
    expect(inclusionProofRefs(index, size)).toEqual(toRefs(elements));
  });

  it.each(nodeIdVectors.inclusionErrors)('rejects leaf $index of a tree of size $size', ({ size, index }) => {
    expect(() => inclusionProofRefs(index, size)).toThrow(
      expect.objectContaining({ code: 'LEDGER.INDEX_OUT_OF_RANGE' }),
    );
  });

  it('needs O(log n) nodes in a huge tree', () => {
    const refs = inclusionProofRefs(2 ** 50 + 12345, 2 ** 52 - 1).flat();
    expect(refs.length).toBeLessThanOrEqual(2 * 52);
  });
});

describe(consistencyProofRefs.name, () => {
  it.each(nodeIdVectors.consistency)('matches transparency-dev from $size1 to $size2', ({ size1, size2, elements }) => {
    expect(consistencyProofRefs(size1, size2)).toEqual(toRefs(elements));
  });

  it('is empty from the empty tree', () => {
    expect(consistencyProofRefs(0, 17)).toEqual([]);
  });

  it.each(nodeIdVectors.consistencyErrors)('rejects going from $size1 back to $size2', ({ size1, size2 }) => {
    expect(() => consistencyProofRefs(size1, size2)).toThrow(LedgerError);
    expect(() => consistencyProofRefs(size1, size2)).toThrow(
      expect.objectContaining({ code: 'LEDGER.SIZES_OUT_OF_ORDER' }),
    );
  });
});
