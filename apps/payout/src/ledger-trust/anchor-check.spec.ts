import {
  formatCheckpoint,
  generateNoteKey,
  hashChildren,
  hashLeaf,
  parseSignerKey,
  signNote,
} from '@claimchain/ledger';
import { AnchorEvidence, checkAnchor, provableAnchor } from './anchor-check';

const origin = 'claimchain.test/ledger';
const leaves = [hashLeaf(Buffer.from('a')), hashLeaf(Buffer.from('b'))];
const root = hashChildren(leaves[0], leaves[1]);

describe(checkAnchor.name, () => {
  const keys = generateNoteKey(origin);
  const note = signNote(formatCheckpoint({ origin, size: 2, root }), parseSignerKey(keys.signerKey));
  const evidence = (over: Partial<AnchorEvidence> = {}): AnchorEvidence => ({
    leafHash: leaves[1].toString('base64'),
    leafIndex: 1,
    treeSize: 2,
    rootHash: root.toString('base64'),
    inclusionProof: [leaves[0].toString('base64')],
    checkpoint: note,
    ...over,
  });

  it('accepts a leaf proven into the signed checkpoint', () => {
    expect(checkAnchor(evidence(), [keys.verifierKey])).toBeUndefined();
    expect(checkAnchor(evidence())).toBeUndefined();
  });

  it('refuses a proof that does not lead to the root', () => {
    expect(checkAnchor(evidence({ inclusionProof: [leaves[1].toString('base64')] }))).toMatch(/inclusion proof/);
    expect(checkAnchor(evidence({ leafIndex: 0 }))).toMatch(/inclusion proof/);
  });

  it('refuses a checkpoint of another size or root, or signed by another key', () => {
    expect(checkAnchor(evidence({ treeSize: 3 }))).toMatch(/size/);
    expect(checkAnchor(evidence({ rootHash: leaves[0].toString('base64') }))).toMatch(/root/);
    expect(checkAnchor(evidence(), [generateNoteKey(origin).verifierKey])).toMatch(/checkpoint does not verify/);
    // During a rotation payout holds the new key and the old one: a checkpoint signed by either verifies.
    expect(checkAnchor(evidence(), [generateNoteKey(origin).verifierKey, keys.verifierKey])).toBeUndefined();
  });
});

describe(provableAnchor.name, () => {
  const stored = {
    leafHash: 'leaf',
    leafIndex: 7,
    treeSize: 8,
    rootHash: 'root',
    inclusionProof: ['sibling'],
    checkpoint: 'note',
  };

  it('refuses an anchor stored without its inclusion proof or root instead of skipping their checks', () => {
    expect(provableAnchor({ ...stored, inclusionProof: null })).toBe(
      'anchor of leaf 7 carries no inclusion proof: nothing is paid on it',
    );
    expect(provableAnchor({ ...stored, rootHash: null })).toBe(
      'anchor of leaf 7 carries no root hash: nothing is paid on it',
    );
  });

  it('hands on an anchor that carries both', () => {
    expect(provableAnchor(stored)).toEqual(stored);
  });
});
