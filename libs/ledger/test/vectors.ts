/** Typed access to the published vectors in ../test-vectors (see the README there for where each came from). */
import consistencyJson from '../test-vectors/consistency-proofs.json';
import hasherJson from '../test-vectors/rfc6962-hasher.json';
import inclusionJson from '../test-vectors/inclusion-proofs.json';
import nodeIdsJson from '../test-vectors/proof-node-ids.json';
import noteJson from '../test-vectors/sumdb-note.json';
import treeJson from '../test-vectors/rfc6962-tree.json';
import { hashLeaf } from '../src';

export interface InclusionVector {
  file: string;
  desc: string;
  leafIndex: number;
  treeSize: number;
  root: Buffer;
  leafHash: Buffer;
  proof: Buffer[];
}

export interface ConsistencyVector {
  file: string;
  desc: string;
  size1: number;
  size2: number;
  root1: Buffer;
  root2: Buffer;
  proof: Buffer[];
}

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const b64 = (s: string): Buffer => Buffer.from(s, 'base64');

export const hasherVectors = hasherJson;
export const nodeIdVectors = nodeIdsJson;
export const noteVectors = noteJson;

export const referenceLeaves: Buffer[] = treeJson.leavesHex.map(hex);
export const referenceLeafHashes: Buffer[] = referenceLeaves.map((leaf) => hashLeaf(leaf));
/** Index = tree size, 0 to 8. */
export const referenceRoots: Buffer[] = treeJson.rootsBySize.map(hex);

const inclusion = (v: (typeof inclusionJson.valid)[number]): InclusionVector => ({
  file: v.file,
  desc: v.desc,
  leafIndex: v.leafIdx,
  treeSize: v.treeSize,
  root: b64(v.root),
  leafHash: b64(v.leafHash),
  proof: (v.proof ?? []).map(b64),
});

const consistency = (v: (typeof consistencyJson.valid)[number]): ConsistencyVector => ({
  file: v.file,
  desc: v.desc,
  size1: v.size1,
  size2: v.size2,
  root1: b64(v.root1),
  root2: b64(v.root2),
  proof: (v.proof ?? []).map(b64),
});

export const validInclusion = inclusionJson.valid.map(inclusion);
export const tamperedInclusion = inclusionJson.tampered.map(inclusion);
export const validConsistency = consistencyJson.valid.map(consistency);
export const tamperedConsistency = consistencyJson.tampered.map(consistency);

export const toRefs = (elements: number[][][]) =>
  elements.map((parts) => parts.map(([level, index]) => ({ level, index })));
