/** Typed access to the published vectors in ../test-vectors (see the README there for where each came from). */
import cctvConsistencyInvalidJson from '../test-vectors/cctv-merkle/consistency-invalid.json';
import cctvConsistencyValidJson from '../test-vectors/cctv-merkle/consistency-valid.json';
import cctvInclusionInvalidJson from '../test-vectors/cctv-merkle/inclusion-invalid.json';
import cctvInclusionValidJson from '../test-vectors/cctv-merkle/inclusion-valid.json';
import cctvTreeJson from '../test-vectors/cctv-merkle/merkle_tree.json';
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

/** C2SP CCTV `merkle/testdata` (see ../test-vectors/cctv-merkle/README.md): leaves "a" to "p", appended in order. */
export const cctvTree = cctvTreeJson.map((v, i) => ({
  size: i + 1,
  leaf: Buffer.from(v.leaf_data),
  leafHash: b64(v.leaf_hash),
  root: b64(v.root_hash),
}));

type CctvInclusion = (typeof cctvInclusionValidJson)[number] & { comment?: string };
type CctvConsistency = (typeof cctvConsistencyValidJson)[number] & { comment?: string };

const cctvInclusion =
  (file: string) =>
  (v: CctvInclusion, i: number): InclusionVector => ({
    file: `${file}[${i}]`,
    desc: v.comment ?? 'valid',
    leafIndex: v.leaf_index,
    treeSize: v.tree_size,
    root: b64(v.root_hash),
    leafHash: b64(v.leaf_hash),
    proof: v.inclusion_path.map(b64),
  });

const cctvConsistency =
  (file: string) =>
  (v: CctvConsistency, i: number): ConsistencyVector => ({
    file: `${file}[${i}]`,
    desc: v.comment ?? 'valid',
    size1: v.old_size,
    size2: v.new_size,
    root1: b64(v.old_root),
    root2: b64(v.new_root),
    proof: v.consistency_path.map(b64),
  });

export const cctvValidInclusion = cctvInclusionValidJson.map(cctvInclusion('inclusion-valid.json'));
export const cctvInvalidInclusion = cctvInclusionInvalidJson.map(cctvInclusion('inclusion-invalid.json'));
export const cctvValidConsistency = cctvConsistencyValidJson.map(cctvConsistency('consistency-valid.json'));
export const cctvInvalidConsistency = cctvConsistencyInvalidJson.map(cctvConsistency('consistency-invalid.json'));

export const toRefs = (elements: number[][][]) =>
  elements.map((parts) => parts.map(([level, index]) => ({ level, index })));
