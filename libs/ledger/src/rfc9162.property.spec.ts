/**
 * Random trees checked against a reference model written straight from RFC 9162 §2.1 (MTH, PATH, PROOF/SUBPROOF as
 * the recursive definitions read), sharing no code with the library. Seeded, so a failure replays.
 */
import { createHash } from 'node:crypto';
import { NodeRef, consistencyProofRefs, inclusionProofRefs, rootRefs } from './proof.planner';
import { consistencyProof, inclusionProof, rootHash } from './proof.reader';
import { verifyConsistency, verifyInclusion } from './proof.verifier';
import { appendLeaves } from './compact-range.appender';
import { InMemorySubtreeStore } from '../test/in-memory-subtree.store';

const sha256 = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();

/** RFC 9162 §2.1.1–§2.1.4, over D = leaves. Memoised MTH only to keep the run short; the recursion is the RFC's. */
class ReferenceTree {
  private readonly memo = new Map<string, Buffer>();

  constructor(readonly leaves: Buffer[]) {}

  /** MTH(D[begin:end]). */
  mth(begin: number, end: number): Buffer {
    const key = `${begin}:${end}`;
    let hash = this.memo.get(key);
    if (!hash) {
      const n = end - begin;
      if (n === 0) hash = sha256();
      else if (n === 1) hash = sha256(Buffer.from([0x00]), this.leaves[begin]);
      else {
        const k = splitPoint(n);
        hash = sha256(Buffer.from([0x01]), this.mth(begin, begin + k), this.mth(begin + k, end));
      }
      this.memo.set(key, hash);
    }
    return hash;
  }

  /** PATH(m, D[begin:end]), m relative to begin. */
  path(m: number, begin: number, end: number): Buffer[] {
    const n = end - begin;
    if (n === 1) return [];
    const k = splitPoint(n);
    return m < k
      ? [...this.path(m, begin, begin + k), this.mth(begin + k, end)]
      : [...this.path(m - k, begin + k, end), this.mth(begin, begin + k)];
  }

  /** PROOF(m, D[0:n]). */
  proof(m: number, n: number): Buffer[] {
    return this.subproof(m, 0, n, true);
  }

  private subproof(m: number, begin: number, end: number, b: boolean): Buffer[] {
    const n = end - begin;
    if (m === n) return b ? [] : [this.mth(begin, end)];
    const k = splitPoint(n);
    return m <= k
      ? [...this.subproof(m, begin, begin + k, b), this.mth(begin + k, end)]
      : [...this.subproof(m - k, begin + k, end, false), this.mth(begin, begin + k)];
  }
}

/** "The largest power of two smaller than n." */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** mulberry32: tiny, seedable, good enough to pick sizes. */
function prng(seed: number): (below: number) => number {
  let a = seed;
  return (below) => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below);
  };
}

interface RandomTree {
  ref: ReferenceTree;
  store: InMemorySubtreeStore;
  /** Sizes at which a batch ended, with the root appendLeaves reported there. */
  checkpoints: { size: number; root: Buffer }[];
}

function randomTrees(seed: number, count: number): RandomTree[] {
  const rand = prng(seed);
  return Array.from({ length: count }, () => {
    const size = 1 + rand(300);
    const leaves = Array.from({ length: size }, () => Buffer.from(Array.from({ length: rand(40) }, () => rand(256))));
    const store = new InMemorySubtreeStore();
    const checkpoints: RandomTree['checkpoints'] = [];
    while (store.size < size) {
      const batch = leaves.slice(store.size, store.size + 1 + rand(40));
      const { root } = store.append(batch.map((leaf) => sha256(Buffer.from([0x00]), leaf)));
      checkpoints.push({ size: store.size, root });
    }
    return { ref: new ReferenceTree(leaves), store, checkpoints };
  });
}

const trees = randomTrees(0x9162, 24);
const rand = prng(6962);

function insideTree(refs: NodeRef[], size: number): boolean {
  return refs.every(({ level, index }) => (index + 1) * 2 ** level <= size);
}

// Jest's deep equality walks Buffers byte by byte; comparing hex keeps ~10^5 comparisons fast, and collecting the
// failing cases makes a failure say which sizes broke.
const same = (a: readonly Buffer[], b: readonly Buffer[]) => a.length === b.length && a.every((h, i) => h.equals(b[i]));
const hexMap = (m: ReadonlyMap<string, Buffer>) => new Map([...m].map(([k, v]) => [k, v.toString('hex')]));

describe(appendLeaves.name, () => {
  it('reports the RFC root after every random-sized batch', () => {
    const failures: number[] = [];
    for (const { ref, checkpoints } of trees) {
      for (const { size, root } of checkpoints) if (!root.equals(ref.mth(0, size))) failures.push(size);
    }
    expect(failures).toEqual([]);
  });

  it('stores the same nodes whether leaves arrive in random batches or one at a time', () => {
    for (const { ref, store } of trees) {
      const oneByOne = new InMemorySubtreeStore();
      for (const leaf of ref.leaves) oneByOne.append([sha256(Buffer.from([0x00]), leaf)]);
      expect(hexMap(oneByOne.allNodes())).toEqual(hexMap(store.allNodes()));
    }
  });
});

describe(rootHash.name, () => {
  it('reads the RFC root at every size of random trees', async () => {
    const failures: number[] = [];
    for (const { ref, store } of trees) {
      for (let size = 0; size <= store.size; size++) {
        if (!(await rootHash(store, size)).equals(ref.mth(0, size))) failures.push(size);
      }
    }
    expect(failures).toEqual([]);
  });
});

describe(inclusionProof.name, () => {
  it('reads PATH for every leaf of random trees, and it verifies', async () => {
    const failures: string[] = [];
    for (const { ref, store } of trees) {
      const size = store.size;
      const root = ref.mth(0, size);
      for (let index = 0; index < size; index++) {
        const proof = await inclusionProof(store, index, size);
        if (!same(proof, ref.path(index, 0, size))) failures.push(`${index}/${size}`);
        verifyInclusion(ref.mth(index, index + 1), index, size, proof, root);
      }
    }
    expect(failures).toEqual([]);
  });

  it('reads PATH for random leaves of earlier sizes of random trees', async () => {
    const failures: string[] = [];
    for (const { ref, store } of trees) {
      for (let probe = 0; probe < 50; probe++) {
        const size = 1 + rand(store.size);
        const index = rand(size);
        if (!same(await inclusionProof(store, index, size), ref.path(index, 0, size)))
          failures.push(`${index}/${size}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('only ever plans nodes inside the tree the proof is for', () => {
    const failures: string[] = [];
    for (let size = 1; size <= 300; size++) {
      for (let index = 0; index < size; index++) {
        if (!insideTree(inclusionProofRefs(index, size).flat(), size)) failures.push(`${index}/${size}`);
      }
      if (!insideTree(rootRefs(size), size)) failures.push(`root/${size}`);
    }
    expect(failures).toEqual([]);
  });
});

describe(consistencyProof.name, () => {
  it('reads PROOF from every earlier size of random trees, and it verifies', async () => {
    const failures: string[] = [];
    for (const { ref, store } of trees) {
      const size2 = store.size;
      for (let size1 = 1; size1 <= size2; size1++) {
        const proof = await consistencyProof(store, size1, size2);
        if (!same(proof, ref.proof(size1, size2))) failures.push(`${size1}->${size2}`);
        verifyConsistency(size1, size2, proof, ref.mth(0, size1), ref.mth(0, size2));
      }
    }
    expect(failures).toEqual([]);
  });

  it('reads PROOF between random pairs of sizes of random trees, and it verifies', async () => {
    const failures: string[] = [];
    for (const { ref, store } of trees) {
      for (let probe = 0; probe < 50; probe++) {
        const size2 = 1 + rand(store.size);
        const size1 = 1 + rand(size2);
        const proof = await consistencyProof(store, size1, size2);
        if (!same(proof, ref.proof(size1, size2))) failures.push(`${size1}->${size2}`);
        verifyConsistency(size1, size2, proof, ref.mth(0, size1), ref.mth(0, size2));
      }
    }
    expect(failures).toEqual([]);
  });

  it('rejects random proofs with one random bit flipped', async () => {
    for (const { ref, store } of trees.filter((t) => t.store.size > 2)) {
      const size2 = store.size;
      const size1 = 1 + rand(size2 - 1);
      const proof = await consistencyProof(store, size1, size2);
      const i = rand(proof.length);
      const tampered = proof.map((p, j) =>
        j === i ? Buffer.from(p.map((b, k) => (k === 0 ? b ^ (1 << rand(8)) : b))) : p,
      );
      expect(() => verifyConsistency(size1, size2, tampered, ref.mth(0, size1), ref.mth(0, size2))).toThrow(
        expect.objectContaining({ code: 'LEDGER.ROOT_MISMATCH' }),
      );
    }
  });

  it('only ever plans nodes inside the larger tree', () => {
    const failures: string[] = [];
    for (let size2 = 1; size2 <= 300; size2++) {
      for (let size1 = 0; size1 <= size2; size1++) {
        if (!insideTree(consistencyProofRefs(size1, size2).flat(), size2)) failures.push(`${size1}->${size2}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
