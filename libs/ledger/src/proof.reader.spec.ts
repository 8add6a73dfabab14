import { LedgerError } from './ledger.errors';
import { inclusionProofRefs } from './proof.planner';
import { assembleInclusionProof, assembleRoot, consistencyProof, inclusionProof, rootHash } from './proof.reader';
import { verifyConsistency, verifyInclusion } from './proof.verifier';
import { InMemorySubtreeStore } from '../test/in-memory-subtree.store';
import { referenceLeafHashes, referenceRoots, validConsistency, validInclusion } from '../test/vectors';

function referenceStore(): InMemorySubtreeStore {
  const store = new InMemorySubtreeStore();
  store.append(referenceLeafHashes);
  return store;
}

describe(rootHash.name, () => {
  it.each(referenceRoots.map((root, size) => ({ size, root })))(
    'reads the published root of the reference tree at size $size',
    async ({ size, root }) => {
      expect(await rootHash(referenceStore(), size)).toEqual(root);
    },
  );

  it('reads nothing for the empty tree', async () => {
    const store = referenceStore();
    await rootHash(store, 0);
    expect(store.batches).toEqual([]);
  });

  it('reads the nodes in one batch', async () => {
    const store = referenceStore();
    await rootHash(store, 7);
    expect(store.batches).toHaveLength(1);
  });
});

describe(inclusionProof.name, () => {
  it.each(validInclusion)('reads the published proof of $file', async (v) => {
    expect(await inclusionProof(referenceStore(), v.leafIndex, v.treeSize)).toEqual(v.proof);
  });

  it.each(validInclusion)('reads a proof of $file that verifies', async (v) => {
    const proof = await inclusionProof(referenceStore(), v.leafIndex, v.treeSize);
    expect(() => verifyInclusion(v.leafHash, v.leafIndex, v.treeSize, proof, v.root)).not.toThrow();
  });

  it('reads all the nodes in one batch', async () => {
    const store = referenceStore();
    await inclusionProof(store, 2, 7);
    expect(store.batches).toEqual([inclusionProofRefs(2, 7).flat()]);
  });

  it('rejects an index outside the tree before reading', async () => {
    const store = referenceStore();
    await expect(inclusionProof(store, 8, 8)).rejects.toMatchObject({ code: 'LEDGER.INDEX_OUT_OF_RANGE' });
    expect(store.batches).toEqual([]);
  });
});

describe(consistencyProof.name, () => {
  it.each(validConsistency)('reads the published proof of $file', async (v) => {
    expect(await consistencyProof(referenceStore(), v.size1, v.size2)).toEqual(v.proof);
  });

  it.each(validConsistency)('reads a proof of $file that verifies', async (v) => {
    const proof = await consistencyProof(referenceStore(), v.size1, v.size2);
    expect(() => verifyConsistency(v.size1, v.size2, proof, v.root1, v.root2)).not.toThrow();
  });

  it('reads all the nodes in one batch', async () => {
    const store = referenceStore();
    await consistencyProof(store, 3, 7);
    expect(store.batches).toHaveLength(1);
  });
});

describe(assembleInclusionProof.name, () => {
  it('rejects a store answer with a node missing', () => {
    const refs = inclusionProofRefs(2, 7);
    const hashes = refs.flat().map(() => Buffer.alloc(32));
    expect(() => assembleInclusionProof(refs, hashes.slice(1))).toThrow(
      expect.objectContaining({ code: 'LEDGER.NODE_COUNT_MISMATCH' }),
    );
  });

  it('rejects a store answer with a hash of the wrong size', () => {
    const refs = inclusionProofRefs(2, 7);
    const hashes = refs.flat().map(() => Buffer.alloc(32));
    hashes[1] = Buffer.alloc(31);
    expect(() => assembleInclusionProof(refs, hashes)).toThrow(LedgerError);
  });
});

describe(assembleRoot.name, () => {
  it('folds the parts from the right', () => {
    const store = referenceStore();
    const refs = [
      { level: 2, index: 0 },
      { level: 1, index: 2 },
      { level: 0, index: 6 },
    ];
    const hashes = refs.map((r) => store.node(r.level, r.index));
    expect(assembleRoot(refs, hashes)).toEqual(referenceRoots[7]);
  });
});
