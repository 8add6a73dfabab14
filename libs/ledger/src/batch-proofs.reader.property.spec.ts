import { createHash } from 'node:crypto';
import { InMemorySubtreeStore } from '../test/in-memory-subtree.store';
import { inclusionProofsForRange } from './batch-proofs.reader';
import { inclusionProof } from './proof.reader';

const leafHash = (i: number) => createHash('sha256').update(`leaf ${i}`).digest();

/** A seeded generator, so a failure names a case that can be replayed. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe(`${inclusionProofsForRange.name} on random ranges`, () => {
  const store = new InMemorySubtreeStore();
  store.append(Array.from({ length: 300 }, (_, i) => leafHash(i)));
  const random = lcg(9162);
  const cases = Array.from({ length: 200 }, () => {
    const size = 1 + Math.floor(random() * 300);
    const from = Math.floor(random() * size);
    const to = from + Math.floor(random() * (size - from + 1));
    return [size, from, to] as const;
  });

  it.each(cases)('matches one-by-one proofs in a tree of %i for [%i, %i)', async (size, from, to) => {
    const proofs = await inclusionProofsForRange(store, from, to, size);
    const expected = [];
    for (let i = from; i < to; i++) expected.push(await inclusionProof(store, i, size));
    expect(proofs).toEqual(expected);
  });

  it('matches at every power-of-two boundary', async () => {
    for (const size of [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257]) {
      const proofs = await inclusionProofsForRange(store, 0, size, size);
      for (let i = 0; i < size; i++) expect(proofs[i]).toEqual(await inclusionProof(store, i, size));
    }
  });
});
