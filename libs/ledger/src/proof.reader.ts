/**
 * Roots and proofs read from a store of perfect-subtree hashes: plan the refs (pure), fetch them in one batch, fold.
 * The store is the caller's (Postgres in the ledger service, a Map in tests); this module never does I/O itself.
 */
import { LedgerError } from './ledger.errors';
import { consistencyProofRefs, inclusionProofRefs, NodeRef, rootRefs } from './proof.planner';
import { foldRightEdge, HASH_SIZE } from './rfc9162.hasher';

/** Hashes of perfect subtrees, as written by `appendLeaves`. Must throw rather than return a missing node. */
export interface PerfectSubtreeReader {
  get(level: number, index: number): Promise<Buffer>;
  /** The hashes of `refs`, in the same order. */
  getMany(refs: readonly NodeRef[]): Promise<Buffer[]>;
}

/** `hashes` are the nodes of `refs` (as returned by `getMany(refs)`); an empty list is the empty tree. */
export function assembleRoot(refs: readonly NodeRef[], hashes: readonly Buffer[]): Buffer {
  checkFetched(refs.length, hashes);
  return foldRightEdge(hashes);
}

/** `hashes` are the nodes of `refs.flat()`, as returned by `getMany(refs.flat())`. */
export function assembleInclusionProof(refs: readonly NodeRef[][], hashes: readonly Buffer[]): Buffer[] {
  return foldElements(refs, hashes);
}

/** `hashes` are the nodes of `refs.flat()`, as returned by `getMany(refs.flat())`. */
export function assembleConsistencyProof(refs: readonly NodeRef[][], hashes: readonly Buffer[]): Buffer[] {
  return foldElements(refs, hashes);
}

export async function rootHash(reader: PerfectSubtreeReader, size: number): Promise<Buffer> {
  const refs = rootRefs(size);
  return assembleRoot(refs, await readNodes(reader, refs));
}

export async function inclusionProof(reader: PerfectSubtreeReader, index: number, size: number): Promise<Buffer[]> {
  const refs = inclusionProofRefs(index, size);
  return assembleInclusionProof(refs, await readNodes(reader, refs.flat()));
}

export async function consistencyProof(reader: PerfectSubtreeReader, size1: number, size2: number): Promise<Buffer[]> {
  const refs = consistencyProofRefs(size1, size2);
  return assembleConsistencyProof(refs, await readNodes(reader, refs.flat()));
}

function foldElements(refs: readonly NodeRef[][], hashes: readonly Buffer[]): Buffer[] {
  checkFetched(
    refs.reduce((n, parts) => n + parts.length, 0),
    hashes,
  );
  let next = 0;
  return refs.map((parts) => foldRightEdge(hashes.slice(next, (next += parts.length))));
}

// A short or padded answer from the store would otherwise shift every later element and yield a wrong proof.
function checkFetched(expected: number, hashes: readonly Buffer[]): void {
  if (hashes.length !== expected) {
    throw new LedgerError('LEDGER.NODE_COUNT_MISMATCH', `expected ${expected} node hashes, got ${hashes.length}`);
  }
  for (const h of hashes) {
    if (h.length !== HASH_SIZE) {
      throw new LedgerError('LEDGER.HASH_WRONG_SIZE', `node hash has ${h.length} bytes, expected ${HASH_SIZE}`);
    }
  }
}

async function readNodes(reader: PerfectSubtreeReader, refs: readonly NodeRef[]): Promise<Buffer[]> {
  return refs.length === 0 ? [] : reader.getMany(refs);
}
