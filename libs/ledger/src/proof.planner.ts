/**
 * Which stored nodes a root or proof needs, computed without reading anything. The store keeps the hash of every
 * perfect subtree (level L, index i covers leaves [i·2^L, (i+1)·2^L)); any other RFC 9162 subtree is on the tree's
 * right edge and is folded from its perfect parts. Planning first lets a proof cost one batched read of O(log n)
 * nodes instead of a round trip per node.
 *
 * Each proof element is returned as the list of perfect subtrees (left to right) whose fold is that element's hash:
 * one ref when the subtree is perfect, several for the single right-edge subtree a proof may contain.
 */
import { checkIndex, checkSize, checkSizeOrder, largestPowerOfTwoBelow } from './tree-size.math';
import { LedgerError } from './ledger.errors';

export interface NodeRef {
  readonly level: number;
  readonly index: number;
}

/**
 * [begin, end) as the fewest aligned perfect subtrees, left to right. For an RFC 9162 subtree (begin aligned to the
 * power of two at or above its width, as every subtree MTH recurses into is) these are its right-edge parts, largest
 * first.
 */
export function subtreeRefsForRange(begin: number, end: number): NodeRef[] {
  checkSize(begin, 'range begin');
  checkSize(end, 'range end');
  if (begin > end) throw new LedgerError('LEDGER.SIZES_OUT_OF_ORDER', `range begin ${begin} exceeds end ${end}`);
  const refs: NodeRef[] = [];
  while (begin < end) {
    let level = 0;
    let width = 1;
    while (begin % (width * 2) === 0 && begin + width * 2 <= end) {
      width *= 2;
      level++;
    }
    refs.push({ level, index: begin / width });
    begin += width;
  }
  return refs;
}

/** The parts of MTH(D[0:size]); none for the empty tree, whose root is a constant. */
export function rootRefs(size: number): NodeRef[] {
  return subtreeRefsForRange(0, size);
}

/** PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf end first. */
export function inclusionProofRefs(index: number, size: number): NodeRef[][] {
  checkIndex(index, size);
  const path: NodeRef[][] = [];
  let begin = 0;
  let end = size;
  while (end - begin > 1) {
    const k = largestPowerOfTwoBelow(end - begin);
    if (index < begin + k) {
      path.push(subtreeRefsForRange(begin + k, end));
      end = begin + k;
    } else {
      path.push(subtreeRefsForRange(begin, begin + k));
      begin += k;
    }
  }
  return path.reverse();
}

/**
 * PROOF(size1, D[0:size2]) = SUBPROOF(size1, D[0:size2], true) of RFC 9162 §2.1.4.1, smallest subtree first. Empty
 * when size1 is 0 or equals size2: there is nothing to prove.
 */
export function consistencyProofRefs(size1: number, size2: number): NodeRef[][] {
  checkSizeOrder(size1, size2);
  if (size1 === 0 || size1 === size2) return [];
  const proof: NodeRef[][] = [];
  let begin = 0;
  let end = size2;
  // SUBPROOF's flag b: still true while the subtree starts at leaf 0, i.e. its old part is the whole old tree,
  // whose root the verifier already has.
  let startsAtZero = true;
  while (end !== size1) {
    const k = largestPowerOfTwoBelow(end - begin);
    if (size1 - begin <= k) {
      proof.push(subtreeRefsForRange(begin + k, end));
      end = begin + k;
    } else {
      proof.push(subtreeRefsForRange(begin, begin + k));
      begin += k;
      startsAtZero = false;
    }
  }
  if (!startsAtZero) proof.push(subtreeRefsForRange(begin, end));
  return proof.reverse();
}
