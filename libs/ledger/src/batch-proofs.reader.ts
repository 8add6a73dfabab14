/**
 * Inclusion proofs for a run of consecutive leaves against one tree size, with ONE batched read of the distinct
 * nodes they need: what the checkpointer uses to put a proof in every `ledger.anchored.v2` it emits. Neighbouring
 * leaves share most of their paths, so the distinct nodes number about 2·(to - from) + log2(size), not their sum.
 *
 * PATH(i, D[0:size]) read level by level (as transparency-dev's proof.Inclusion builds it): below level `inner`, the
 * first level where i and size - 1 share their ancestor, each element is the sibling of i's ancestor; the last of
 * those may be the tree's ragged right edge, folded from its perfect parts; above it, one left neighbour per set bit
 * of i. The nodes of each level form one contiguous run, so they are kept in dense arrays rather than planned per
 * leaf: about 5× cheaper than planning each proof, which matters at 50,000 leaves per checkpoint.
 */
import { NodeRef, subtreeRefsForRange } from './proof.planner';
import { PerfectSubtreeReader } from './proof.reader';
import { foldRightEdge } from './rfc9162.hasher';
import { checkSizeOrder, half, isOdd } from './tree-size.math';

export async function inclusionProofsForRange(
  reader: PerfectSubtreeReader,
  from: number,
  to: number,
  size: number,
): Promise<Buffer[][]> {
  checkSizeOrder(from, to);
  checkSizeOrder(to, size);
  if (from === to) return [];

  // Per level, the run of perfect nodes any proof of [from, to) can use: ancestors' siblings and left neighbours.
  const refs: NodeRef[] = [];
  const lows: number[] = [];
  for (let level = 0, width = 1; width < size; level++, width *= 2) {
    const low = Math.max(0, Math.floor(from / width) - 1);
    const high = Math.min(Math.floor(size / width) - 1, Math.floor((to - 1) / width) + 1);
    lows.push(low);
    for (let index = low; index <= high; index++) refs.push({ level, index });
  }
  // Per level, the right-edge subtree that holds the last leaf, when it is not perfect: its perfect parts.
  const edges = new Map<number, NodeRef[]>();
  for (let level = 1, width = 2; width < size; level++, width *= 2) {
    const begin = Math.floor((size - 1) / width) * width;
    if (begin + width > size) edges.set(level, subtreeRefsForRange(begin, size));
  }
  const edgeRefs = [...edges.values()].flat();

  const hashes = await reader.getMany([...refs, ...edgeRefs]);
  const levels: Buffer[][] = lows.map(() => []);
  refs.forEach((r, i) => (levels[r.level][r.index - lows[r.level]] = hashes[i]));
  const edgeHashes = new Map<number, Buffer>();
  let next = refs.length;
  for (const [level, parts] of edges) {
    edgeHashes.set(level, foldRightEdge(hashes.slice(next, (next += parts.length))));
  }
  const node = (level: number, index: number) => levels[level][index - lows[level]];

  const last = size - 1;
  const proofs: Buffer[][] = [];
  for (let leaf = from; leaf < to; leaf++) {
    const proof: Buffer[] = [];
    let level = 0;
    let a = leaf; // leaf's ancestor at `level`
    let b = last; // the last leaf's ancestor at `level`
    for (; a !== b; level++, a = half(a), b = half(b)) {
      const sibling = isOdd(a) ? a - 1 : a + 1;
      // Only where the two paths meet can the right sibling be the ragged edge (it holds the last leaf).
      const ragged = half(a) === half(b) && !isOdd(a) && (sibling + 1) * 2 ** level > size;
      proof.push(ragged ? edgeHashes.get(level)! : node(level, sibling));
    }
    for (; a > 0; level++, a = half(a)) if (isOdd(a)) proof.push(node(level, a - 1));
    proofs.push(proof);
  }
  return proofs;
}
