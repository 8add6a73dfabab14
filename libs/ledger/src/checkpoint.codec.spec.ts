import { formatCheckpoint, parseCheckpoint } from './checkpoint.codec';
import { emptyRoot } from './rfc9162.hasher';

const root = Buffer.from('0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62', 'hex');
// The example checkpoint body of c2sp.org/tlog-checkpoint.
const specExample = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';

describe(formatCheckpoint.name, () => {
  it('writes origin, decimal size and base64 root, one per line', () => {
    expect(formatCheckpoint({ origin: 'example.com/behind-the-sofa', size: 20852163, root })).toBe(specExample);
  });

  it('writes the empty tree as size 0', () => {
    expect(formatCheckpoint({ origin: 'log', size: 0, root: emptyRoot() })).toBe(
      'log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n',
    );
  });

  it.each([
    ['an empty origin', { origin: '', size: 1, root }],
    ['a multi-line origin', { origin: 'a\nb', size: 1, root }],
    ['a negative size', { origin: 'log', size: -1, root }],
    ['a fractional size', { origin: 'log', size: 1.5, root }],
    ['a short root', { origin: 'log', size: 1, root: root.subarray(1) }],
  ])('rejects %s', (_, checkpoint) => {
    expect(() => formatCheckpoint(checkpoint)).toThrow(
      expect.objectContaining({ code: 'LEDGER.CHECKPOINT_MALFORMED' }),
    );
  });
});

describe(parseCheckpoint.name, () => {
  it('reads back what formatCheckpoint wrote', () => {
    const checkpoint = { origin: 'claimchain.example/ledger', size: 12345, root };
    expect(parseCheckpoint(formatCheckpoint(checkpoint))).toEqual({ ...checkpoint, extensions: [] });
  });

  it('reads the example of the spec', () => {
    expect(parseCheckpoint(specExample)).toMatchObject({ origin: 'example.com/behind-the-sofa', size: 20852163, root });
  });

  it('returns extension lines', () => {
    expect(parseCheckpoint(`${specExample}ext one\next two\n`).extensions).toEqual(['ext one', 'ext two']);
  });

  it.each([
    ['no final newline', specExample.slice(0, -1)],
    ['a missing root line', 'log\n5\n'],
    ['an empty origin', '\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n'],
    ['a size with a leading zero', 'log\n05\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n'],
    ['a signed size', 'log\n+5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n'],
    ['a size beyond 2^53', 'log\n9007199254740993\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n'],
    ['an unpadded root', 'log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n'],
    ['a URL-safe base64 root', 'log\n5\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n'],
    ['a 31-byte root', `log\n5\n${root.subarray(1).toString('base64')}\n`],
    ['an empty extension line', `${specExample}\n`],
  ])('rejects %s', (_, text) => {
    expect(() => parseCheckpoint(text)).toThrow(expect.objectContaining({ code: 'LEDGER.CHECKPOINT_MALFORMED' }));
  });
});
