import { createHash } from 'node:crypto';
import { appendLeaves } from './compact-range.appender';
import { rootRefs } from './proof.planner';
import { referenceLeafHashes, referenceRoots } from '../test/vectors';

const leafHashes = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) =>
    createHash('sha256')
      .update(`leaf ${from + i}`)
      .digest(),
  );

describe(appendLeaves.name, () => {
  it('gives the published root after each reference leaf, appended one at a time', () => {
    let frontier: Buffer[] = [];
    referenceLeafHashes.forEach((leaf, i) => {
      const result = appendLeaves(frontier, i, [leaf]);
      expect(result.root).toEqual(referenceRoots[i + 1]);
      frontier = result.frontier;
    });
  });

  it('gives the empty root when nothing has been appended', () => {
    expect(appendLeaves([], 0, []).root).toEqual(referenceRoots[0]);
  });

  it('returns each leaf and each newly completed perfect subtree as a new node', () => {
    const first = appendLeaves([], 0, referenceLeafHashes.slice(0, 3));
    const { newNodes } = appendLeaves(first.frontier, 3, [referenceLeafHashes[3]]);
    expect(newNodes.map(({ level, index }) => [level, index])).toEqual([
      [0, 3],
      [1, 1],
      [2, 0],
    ]);
  });

  it('returns the frontier of the new size, one node per set bit', () => {
    const { frontier, size } = appendLeaves([], 0, leafHashes(13));
    expect(size).toBe(13);
    expect(frontier).toHaveLength(rootRefs(13).length);
  });

  it('continues from a frontier exactly as from the start', () => {
    const all = leafHashes(100);
    const whole = appendLeaves([], 0, all);
    const head = appendLeaves([], 0, all.slice(0, 37));
    const tail = appendLeaves(head.frontier, 37, all.slice(37));
    expect(tail.root).toEqual(whole.root);
    expect([...head.newNodes, ...tail.newNodes]).toEqual(expect.arrayContaining(whole.newNodes));
    expect(head.newNodes.length + tail.newNodes.length).toBe(whole.newNodes.length);
  });

  it('writes 2n - popcount(n) nodes for n leaves: every perfect subtree once', () => {
    expect(appendLeaves([], 0, leafHashes(1000)).newNodes).toHaveLength(2 * 1000 - 6);
  });

  it('rejects a frontier that does not fit the start size', () => {
    const { frontier } = appendLeaves([], 0, leafHashes(5));
    expect(() => appendLeaves(frontier, 7, leafHashes(1))).toThrow(
      expect.objectContaining({ code: 'LEDGER.FRONTIER_MISMATCH' }),
    );
  });

  it('rejects a leaf hash that is not 32 bytes', () => {
    expect(() => appendLeaves([], 0, [Buffer.from('not a hash')])).toThrow(
      expect.objectContaining({ code: 'LEDGER.HASH_WRONG_SIZE' }),
    );
  });

  // How fast is a figure of `npm run bench:ledger` (its line 0), not an assertion here.
  it('gives the same root and nodes for 100k leaves whether appended at once or in uneven batches', () => {
    const all = leafHashes(100_000);
    const whole = appendLeaves([], 0, all);
    let frontier: Buffer[] = [];
    let nodes = 0;
    for (let from = 0, step = 1; from < all.length; from += step, step = (step * 7) % 4093) {
      const part = appendLeaves(frontier, from, all.slice(from, from + step));
      frontier = part.frontier;
      nodes += part.newNodes.length;
    }
    expect(appendLeaves(frontier, all.length, []).root).toEqual(whole.root);
    expect(whole.size).toBe(100_000);
    expect(nodes).toBe(whole.newNodes.length);
    expect(whole.newNodes).toHaveLength(2 * 100_000 - 6); // popcount(100000) = 6
  });
});
