import { createHash } from 'node:crypto';
import { InMemorySubtreeStore } from '../test/in-memory-subtree.store';
import { inclusionProofsForRange } from './batch-proofs.reader';
import { inclusionProof, rootHash } from './proof.reader';
import { verifyInclusion } from './proof.verifier';

const leafHash = (i: number) => createHash('sha256').update(`leaf ${i}`).digest();

describe(inclusionProofsForRange.name, () => {
  it.each([
    [0, 1, 1],
    [0, 7, 7],
    [5, 13, 13],
    [100, 137, 200],
    [63, 64, 65],
  ])(
    'gives, for leaves [%i, %i) of a tree of %i, the same proofs as one-by-one reads, in one batch',
    async (from, to, size) => {
      const store = new InMemorySubtreeStore();
      store.append(Array.from({ length: size }, (_, i) => leafHash(i)));
      const root = await rootHash(store, size);
      store.batches.length = 0;
      const proofs = await inclusionProofsForRange(store, from, to, size);
      expect(store.batches.length).toBeLessThanOrEqual(1);
      expect(proofs).toHaveLength(to - from);
      for (let i = from; i < to; i += 1) {
        expect(proofs[i - from]).toEqual(await inclusionProof(store, i, size));
        expect(() => verifyInclusion(leafHash(i), i, size, proofs[i - from], root)).not.toThrow();
      }
    },
  );
});
