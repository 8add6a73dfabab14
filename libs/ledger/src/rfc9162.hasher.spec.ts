import { emptyRoot, hashChildren, hashLeaf } from './rfc9162.hasher';
import { hasherVectors } from '../test/vectors';

const hex = (s: string) => Buffer.from(s, 'hex');

describe(hashLeaf.name, () => {
  it.each(hasherVectors.leaves)('matches the published hash of the $desc', ({ leafHex, hash }) => {
    expect(hashLeaf(hex(leafHex)).toString('hex')).toBe(hash);
  });

  it('differs from the interior-node hash of the same bytes', () => {
    const [l, r] = [hashLeaf(Buffer.from('Hello')), hashLeaf(Buffer.from('World'))];
    expect(hashLeaf(Buffer.concat([l, r]))).not.toEqual(hashChildren(l, r));
  });
});

describe(hashChildren.name, () => {
  it.each(hasherVectors.children)('matches the published hash of $desc', ({ leftHex, rightHex, hash }) => {
    expect(hashChildren(hex(leftHex), hex(rightHex)).toString('hex')).toBe(hash);
  });

  it('depends on the order of the children', () => {
    const [l, r] = [hashLeaf(Buffer.from('one')), hashLeaf(Buffer.from('other'))];
    expect(hashChildren(l, r)).not.toEqual(hashChildren(r, l));
  });
});

describe(emptyRoot.name, () => {
  it('is SHA-256 of the empty string', () => {
    expect(emptyRoot().toString('hex')).toBe(hasherVectors.emptyRoot);
  });

  it('differs from the hash of an empty leaf', () => {
    expect(emptyRoot()).not.toEqual(hashLeaf(Buffer.alloc(0)));
  });
});
