/**
 * Proof verification exactly as RFC 9162 §2.1.3.2 and §2.1.4.2 spell it, so an auditor can check this file against
 * the RFC line by line. Pure and synchronous; every rejection is a LedgerError with a code saying what was wrong.
 */
import { LedgerError } from './ledger.errors';
import { emptyRoot, HASH_SIZE, hashChildren } from './rfc9162.hasher';
import { checkIndex, checkSizeOrder, half, isOdd, isPowerOfTwo } from './tree-size.math';

export function verifyInclusion(
  leafHash: Buffer,
  index: number,
  treeSize: number,
  proof: readonly Buffer[],
  root: Buffer,
): void {
  checkHash(root, 'root');
  const computed = rootFromInclusionProof(leafHash, index, treeSize, proof);
  if (!computed.equals(root)) throw new LedgerError('LEDGER.ROOT_MISMATCH', 'inclusion proof does not lead to root');
}

/** The root that `proof` commits to for `leafHash` at `index`, per RFC 9162 §2.1.3.2 steps 1–5. */
export function rootFromInclusionProof(
  leafHash: Buffer,
  index: number,
  treeSize: number,
  proof: readonly Buffer[],
): Buffer {
  checkIndex(index, treeSize);
  checkHash(leafHash, 'leaf hash');
  proof.forEach((p, i) => checkHash(p, `proof[${i}]`));
  let fn = index;
  let sn = treeSize - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) throw wrongSize(proof.length, 'too long');
    if (isOdd(fn) || fn === sn) {
      r = hashChildren(p, r);
      // Skip the levels where this node has no right sibling (the tree's ragged right edge).
      while (!isOdd(fn) && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else {
      r = hashChildren(r, p);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  if (sn !== 0) throw wrongSize(proof.length, 'too short');
  return r;
}

/** RFC 9162 §2.1.4.2, plus the trivial cases it leaves to the caller: equal sizes and the empty first tree. */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Buffer[],
  root1: Buffer,
  root2: Buffer,
): void {
  checkSizeOrder(size1, size2);
  checkHash(root1, 'first root');
  checkHash(root2, 'second root');
  proof.forEach((p, i) => checkHash(p, `proof[${i}]`));

  if (size1 === size2 || size1 === 0) {
    if (proof.length !== 0) throw wrongSize(proof.length, 'must be empty for these sizes');
    // The empty tree has one possible root; any tree extends it, so only root1 can be wrong.
    const expected = size1 === 0 ? emptyRoot() : root2;
    if (!root1.equals(expected)) throw new LedgerError('LEDGER.ROOT_MISMATCH', 'first root does not match');
    return;
  }

  if (proof.length === 0) throw wrongSize(0, 'must not be empty'); // step 1
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof; // step 2
  let fn = size1 - 1; // step 3
  let sn = size2 - 1;
  while (isOdd(fn)) [fn, sn] = [half(fn), half(sn)]; // step 4
  let fr = path[0]; // step 5
  let sr = path[0];
  for (const c of path.slice(1)) {
    // step 6
    if (sn === 0) throw wrongSize(proof.length, 'too long');
    if (isOdd(fn) || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while (!isOdd(fn) && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else {
      sr = hashChildren(sr, c);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  if (sn !== 0) throw wrongSize(proof.length, 'too short'); // step 7
  if (!fr.equals(root1)) throw new LedgerError('LEDGER.ROOT_MISMATCH', 'consistency proof does not lead to first root');
  if (!sr.equals(root2))
    throw new LedgerError('LEDGER.ROOT_MISMATCH', 'consistency proof does not lead to second root');
}

function checkHash(h: Buffer, what: string): void {
  if (h.length !== HASH_SIZE) {
    throw new LedgerError('LEDGER.HASH_WRONG_SIZE', `${what} has ${h.length} bytes, expected ${HASH_SIZE}`);
  }
}

function wrongSize(length: number, why: string): LedgerError {
  return new LedgerError('LEDGER.PROOF_WRONG_SIZE', `proof of ${length} hashes is ${why}`);
}
