import { rootFromInclusionProof, verifyConsistency, verifyInclusion } from './proof.verifier';
import { emptyRoot, hashLeaf } from './rfc9162.hasher';
import {
  ConsistencyVector,
  InclusionVector,
  tamperedConsistency,
  tamperedInclusion,
  validConsistency,
  validInclusion,
} from '../test/vectors';
import { codeOf } from '../test/ledger-error.outcome';

const someHash = Buffer.from('abacaba000000000000000000000000000000000000000000060061e00123456', 'hex');

function flipBit(hash: Buffer, bit: number): Buffer {
  const copy = Buffer.from(hash);
  copy[bit >> 3] ^= 1 << (bit & 7);
  return copy;
}

function replaceAt(proof: Buffer[], i: number, hash: Buffer): Buffer[] {
  return proof.map((p, j) => (j === i ? hash : p));
}

const inclusionCode = (v: InclusionVector) => () =>
  codeOf(() => verifyInclusion(v.leafHash, v.leafIndex, v.treeSize, v.proof, v.root));

const consistencyCode = (v: ConsistencyVector) => () =>
  codeOf(() => verifyConsistency(v.size1, v.size2, v.proof, v.root1, v.root2));

/** The probes of transparency-dev's corruptInclusionProof, for any valid vector. */
function corruptInclusion(v: InclusionVector): [string, InclusionVector][] {
  const { proof, root } = v;
  return [
    ['leaf index - 1', { ...v, leafIndex: v.leafIndex - 1 }],
    ['leaf index + 1', { ...v, leafIndex: v.leafIndex + 1 }],
    ['leaf index ^ 2', { ...v, leafIndex: v.leafIndex ^ 2 }],
    ['tree size * 2', { ...v, treeSize: v.treeSize * 2 }],
    ['tree size / 2', { ...v, treeSize: Math.floor(v.treeSize / 2) }],
    ['wrong leaf', { ...v, leafHash: hashLeaf(Buffer.from('WrongLeaf')) }],
    ['empty root', { ...v, root: emptyRoot() }],
    ['random root', { ...v, root: someHash }],
    ['trailing root', { ...v, proof: [...proof, root] }],
    ['preceding root', { ...v, proof: [root, ...proof] }],
    ...(proof.length > 0
      ? [['removed component', { ...v, proof: proof.slice(0, -1) }] as [string, InclusionVector]]
      : []),
    ...(proof.length > 1
      ? [['inserted component', { ...v, proof: [proof[0], someHash, ...proof.slice(1)] }] as [string, InclusionVector]]
      : []),
  ];
}

/** The probes of transparency-dev's corruptConsistencyProof, for any valid vector with a non-empty proof. */
function corruptConsistency(v: ConsistencyVector): [string, ConsistencyVector][] {
  const { proof, root1, root2 } = v;
  return [
    ['size1 - 1', { ...v, size1: v.size1 - 1 }],
    ['size1 + 1', { ...v, size1: v.size1 + 1 }],
    ['size1 ^ 2', { ...v, size1: v.size1 ^ 2 }],
    ['size2 * 2', { ...v, size2: v.size2 * 2 }],
    ['size2 / 2', { ...v, size2: Math.floor(v.size2 / 2) }],
    ['wrong root1', { ...v, root1: someHash }],
    ['wrong root2', { ...v, root2: someHash }],
    ['swapped roots', { ...v, root1: root2, root2: root1 }],
    ['empty proof', { ...v, proof: [] }],
    ['trailing root1', { ...v, proof: [...proof, root1] }],
    ['trailing root2', { ...v, proof: [...proof, root2] }],
    ['preceding root1', { ...v, proof: [root1, ...proof] }],
    ['preceding root2', { ...v, proof: [root2, ...proof] }],
    ['preceding proof[0]', { ...v, proof: [proof[0], ...proof] }],
    ['truncated proof', { ...v, proof: proof.slice(0, -1) }],
  ];
}

describe(verifyInclusion.name, () => {
  it.each(validInclusion)('accepts the published proof $file', (v) => {
    expect(inclusionCode(v)()).toBe('accepted');
  });

  it.each(tamperedInclusion)('rejects the published tampered case $file', (v) => {
    expect(inclusionCode(v)()).not.toBe('accepted');
  });

  it.each(validInclusion.flatMap((v) => corruptInclusion(v).map(([desc, bad]) => ({ file: v.file, desc, bad }))))(
    'rejects $file with $desc',
    ({ bad }) => {
      expect(inclusionCode(bad)()).not.toBe('accepted');
    },
  );

  it.each(validInclusion)(
    'reports a root mismatch for every single-bit flip of the leaf, root or proof of $file',
    (v) => {
      const codes = new Set<string>();
      for (let bit = 0; bit < 256; bit++) {
        codes.add(inclusionCode({ ...v, leafHash: flipBit(v.leafHash, bit) })());
        codes.add(inclusionCode({ ...v, root: flipBit(v.root, bit) })());
        v.proof.forEach((p, i) => codes.add(inclusionCode({ ...v, proof: replaceAt(v.proof, i, flipBit(p, bit)) })()));
      }
      expect([...codes]).toEqual(['LEDGER.ROOT_MISMATCH']);
    },
  );

  it('reports an extended proof as the wrong size', () => {
    const v = validInclusion[2];
    expect(inclusionCode({ ...v, proof: [...v.proof, someHash] })()).toBe('LEDGER.PROOF_WRONG_SIZE');
  });

  it('reports a truncated proof as the wrong size', () => {
    const v = validInclusion[2];
    expect(inclusionCode({ ...v, proof: v.proof.slice(0, -1) })()).toBe('LEDGER.PROOF_WRONG_SIZE');
  });

  it('reports an empty proof where one is needed as the wrong size', () => {
    expect(inclusionCode({ ...validInclusion[2], proof: [] })()).toBe('LEDGER.PROOF_WRONG_SIZE');
  });

  it('reports a proof for a one-leaf tree as the wrong size', () => {
    expect(inclusionCode({ ...validInclusion[0], proof: [someHash] })()).toBe('LEDGER.PROOF_WRONG_SIZE');
  });

  it.each([
    [0, 0],
    [1, 0],
    [2, 1],
    [8, 8],
  ])('reports index %d of a tree of size %d as out of range', (leafIndex, treeSize) => {
    expect(inclusionCode({ ...validInclusion[0], leafIndex, treeSize })()).toBe('LEDGER.INDEX_OUT_OF_RANGE');
  });

  it.each([
    ['leaf hash', { leafHash: Buffer.alloc(0) }],
    ['root', { root: Buffer.alloc(31) }],
    ['proof element', { proof: [Buffer.alloc(33), ...validInclusion[2].proof.slice(1)] }],
  ])('reports a %s that is not 32 bytes', (_, change) => {
    expect(inclusionCode({ ...validInclusion[2], ...change })()).toBe('LEDGER.HASH_WRONG_SIZE');
  });

  it('accepts a one-leaf tree whose root is its leaf hash', () => {
    const leaf = hashLeaf(Buffer.from('data'));
    expect(() => verifyInclusion(leaf, 0, 1, [], leaf)).not.toThrow();
  });
});

describe(rootFromInclusionProof.name, () => {
  it.each(validInclusion)('computes the published root from $file', (v) => {
    expect(rootFromInclusionProof(v.leafHash, v.leafIndex, v.treeSize, v.proof)).toEqual(v.root);
  });
});

describe(verifyConsistency.name, () => {
  it.each(validConsistency)('accepts the published proof $file', (v) => {
    expect(consistencyCode(v)()).toBe('accepted');
  });

  it.each(tamperedConsistency)('rejects the published tampered case $file', (v) => {
    expect(consistencyCode(v)()).not.toBe('accepted');
  });

  it.each(
    validConsistency
      .filter((v) => v.proof.length > 0)
      .flatMap((v) => corruptConsistency(v).map(([desc, bad]) => ({ file: v.file, desc, bad }))),
  )('rejects $file with $desc', ({ bad }) => {
    expect(consistencyCode(bad)()).not.toBe('accepted');
  });

  it.each(validConsistency)('reports a root mismatch for every single-bit flip of a root or proof of $file', (v) => {
    const codes = new Set<string>();
    for (let bit = 0; bit < 256; bit++) {
      codes.add(consistencyCode({ ...v, root1: flipBit(v.root1, bit) })());
      codes.add(consistencyCode({ ...v, root2: flipBit(v.root2, bit) })());
      v.proof.forEach((p, i) => codes.add(consistencyCode({ ...v, proof: replaceAt(v.proof, i, flipBit(p, bit)) })()));
    }
    expect([...codes]).toEqual(['LEDGER.ROOT_MISMATCH']);
  });

  it('reports a first size above the second as out of order', () => {
    expect(consistencyCode({ ...validConsistency[2], size1: 9 })()).toBe('LEDGER.SIZES_OUT_OF_ORDER');
  });

  it.each([
    ['extended', (p: Buffer[]) => [...p, someHash]],
    ['truncated', (p: Buffer[]) => p.slice(0, -1)],
    ['emptied', () => []],
  ])('reports a %s proof as the wrong size', (_, change) => {
    const v = validConsistency[2];
    expect(consistencyCode({ ...v, proof: change(v.proof) })()).toBe('LEDGER.PROOF_WRONG_SIZE');
  });

  it('reports any proof between equal sizes as the wrong size', () => {
    const v = validConsistency[0];
    expect(consistencyCode({ ...v, proof: [v.root1] })()).toBe('LEDGER.PROOF_WRONG_SIZE');
  });

  it('reports any proof from the empty tree as the wrong size', () => {
    const v = validConsistency[1];
    expect(consistencyCode({ ...v, size1: 0, root1: emptyRoot(), proof: [emptyRoot()] })()).toBe(
      'LEDGER.PROOF_WRONG_SIZE',
    );
  });

  it('accepts any tree as an extension of the empty tree', () => {
    expect(() => verifyConsistency(0, 5, [], emptyRoot(), someHash)).not.toThrow();
  });

  it('rejects an empty first tree whose root is not the empty root', () => {
    expect(() => verifyConsistency(0, 5, [], someHash, someHash)).toThrow(
      expect.objectContaining({ code: 'LEDGER.ROOT_MISMATCH' }),
    );
  });

  it('accepts equal sizes with equal roots and no proof', () => {
    expect(() => verifyConsistency(3, 3, [], someHash, someHash)).not.toThrow();
  });

  it('rejects equal sizes with different roots', () => {
    expect(() => verifyConsistency(3, 3, [], someHash, emptyRoot())).toThrow(
      expect.objectContaining({ code: 'LEDGER.ROOT_MISMATCH' }),
    );
  });

  it.each([
    ['first root', { root1: Buffer.from('WrongRoot') }],
    ['second root', { root2: Buffer.alloc(0) }],
    ['proof element', { proof: [Buffer.alloc(0), ...validConsistency[2].proof] }],
  ])('reports a %s that is not 32 bytes', (_, change) => {
    expect(consistencyCode({ ...validConsistency[2], ...change })()).toBe('LEDGER.HASH_WRONG_SIZE');
  });
});
