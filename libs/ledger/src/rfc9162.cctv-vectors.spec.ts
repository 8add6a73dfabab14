/**
 * The C2SP CCTV Merkle vectors (test-vectors/cctv-merkle, an implementation independent of transparency-dev's) run
 * against every part of this library they exercise: leaf hashing, appends, roots, proofs read from stored subtrees,
 * and verification, which must accept each valid case and reject each mutated one.
 */
import { appendLeaves } from './compact-range.appender';
import { consistencyProof, inclusionProof, rootHash } from './proof.reader';
import { rootFromInclusionProof, verifyConsistency, verifyInclusion } from './proof.verifier';
import { hashLeaf } from './rfc9162.hasher';
import { InMemorySubtreeStore } from '../test/in-memory-subtree.store';
import {
  cctvInvalidConsistency,
  cctvInvalidInclusion,
  cctvTree,
  cctvValidConsistency,
  cctvValidInclusion,
  ConsistencyVector,
  InclusionVector,
} from '../test/vectors';
import { codeOf } from '../test/ledger-error.outcome';

/** All 16 leaves; a proof or root for a smaller tree reads only that prefix. */
function cctvStore(): InMemorySubtreeStore {
  const store = new InMemorySubtreeStore();
  store.append(cctvTree.map((v) => v.leafHash));
  return store;
}

const inclusionOutcome = (v: InclusionVector) =>
  codeOf(() => verifyInclusion(v.leafHash, v.leafIndex, v.treeSize, v.proof, v.root));

const consistencyOutcome = (v: ConsistencyVector) =>
  codeOf(() => verifyConsistency(v.size1, v.size2, v.proof, v.root1, v.root2));

describe(`${hashLeaf.name} on the CCTV tree`, () => {
  it.each(cctvTree)('hashes leaf $size to the published leaf hash', ({ leaf, leafHash }) => {
    expect(hashLeaf(leaf)).toEqual(leafHash);
  });
});

describe(`${appendLeaves.name} on the CCTV tree`, () => {
  it('gives the published root after each leaf, appended one at a time', () => {
    let frontier: Buffer[] = [];
    const roots = cctvTree.map(({ size, leafHash }) => {
      const result = appendLeaves(frontier, size - 1, [leafHash]);
      frontier = result.frontier;
      return result.root;
    });
    expect(roots).toEqual(cctvTree.map((v) => v.root));
  });

  it.each([1, 3, 5, 7])('gives the published roots when the leaves arrive in batches of %i', (batch) => {
    let frontier: Buffer[] = [];
    let size = 0;
    for (let start = 0; start < cctvTree.length; start += batch) {
      const leaves = cctvTree.slice(start, start + batch);
      const result = appendLeaves(
        frontier,
        size,
        leaves.map((v) => v.leafHash),
      );
      ({ frontier, size } = result);
      expect(result.root).toEqual(leaves[leaves.length - 1].root);
    }
  });
});

describe(`${rootHash.name} on the CCTV tree`, () => {
  it.each(cctvTree)('reads the published root of size $size from the stored subtrees', async ({ size, root }) => {
    expect(await rootHash(cctvStore(), size)).toEqual(root);
  });
});

describe(`${inclusionProof.name} on the CCTV tree`, () => {
  it.each(cctvValidInclusion)('reads the published proof of $file', async (v) => {
    expect(await inclusionProof(cctvStore(), v.leafIndex, v.treeSize)).toEqual(v.proof);
  });
});

describe(`${consistencyProof.name} on the CCTV tree`, () => {
  it.each(cctvValidConsistency)('reads the published proof of $file', async (v) => {
    expect(await consistencyProof(cctvStore(), v.size1, v.size2)).toEqual(v.proof);
  });
});

describe(`${verifyInclusion.name} on the CCTV vectors`, () => {
  it.each(cctvValidInclusion)('accepts $file', (v) => {
    expect(inclusionOutcome(v)).toBe('accepted');
    expect(rootFromInclusionProof(v.leafHash, v.leafIndex, v.treeSize, v.proof)).toEqual(v.root);
  });

  it.each(cctvInvalidInclusion)('rejects $file ($desc) as leading to another root', (v) => {
    expect(inclusionOutcome(v)).toBe('LEDGER.ROOT_MISMATCH');
  });
});

describe(`${verifyConsistency.name} on the CCTV vectors`, () => {
  it.each(cctvValidConsistency)('accepts $file ($size1 → $size2)', (v) => {
    expect(consistencyOutcome(v)).toBe('accepted');
  });

  // Mutated sizes fail in different ways (out of order, a proof of the wrong length, a root the path does not
  // reach); what matters is that none passes and each is refused with a reason rather than a crash.
  it.each(cctvInvalidConsistency)('rejects $file ($size1 → $size2, $desc)', (v) => {
    expect(consistencyOutcome(v)).not.toBe('accepted');
  });
});
