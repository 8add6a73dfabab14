/**
 * RFC 9162 §2.1 Merkle tree hashing with SHA-256. The 0x00/0x01 prefixes separate leaves from interior nodes, so a
 * leaf can never be passed off as a subtree (second-preimage resistance).
 */
import { hash } from 'node:crypto';

export const HASH_SIZE = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/**
 * Scratch space for the prefixed input, reused by every call: the hash is one-shot and synchronous, so nothing can
 * interleave, and not allocating the input (Buffer.concat) saves 15–25 % of a call, which a full audit makes twice
 * per entry. Inputs of unexpected sizes (a forged proof's hashes, a huge leaf) take the allocating path.
 */
const leafScratch = Buffer.allocUnsafeSlow(4096);
const nodeScratch = Buffer.allocUnsafeSlow(1 + 2 * HASH_SIZE);

export function hashLeaf(leaf: Uint8Array): Buffer {
  if (leaf.length >= leafScratch.length) return sha256(Buffer.concat([LEAF_PREFIX, leaf]));
  leafScratch[0] = 0x00;
  leafScratch.set(leaf, 1);
  return sha256(leafScratch.subarray(0, leaf.length + 1));
}

export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    return sha256(Buffer.concat([NODE_PREFIX, left, right]));
  }
  nodeScratch[0] = 0x01;
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 1 + HASH_SIZE);
  return sha256(nodeScratch);
}

/** The root of the tree with no leaves: SHA-256 of the empty string. */
export function emptyRoot(): Buffer {
  return sha256(Buffer.alloc(0));
}

/**
 * Root of an RFC 9162 subtree given its perfect parts left to right (largest first, as `subtreeRefsForRange` lists
 * them). MTH splits at the largest power of two, so the leftmost part is the left child and the rest, folded the same
 * way, the right child: hence folding from the right.
 */
export function foldRightEdge(parts: readonly Buffer[]): Buffer {
  if (parts.length === 0) return emptyRoot();
  let acc = parts[parts.length - 1];
  for (let i = parts.length - 2; i >= 0; i--) acc = hashChildren(parts[i], acc);
  return acc;
}

// One-shot `crypto.hash` is ~25% faster than createHash().update().digest(), which matters when appending big batches.
function sha256(data: Buffer): Buffer {
  return hash('sha256', data, 'buffer');
}
