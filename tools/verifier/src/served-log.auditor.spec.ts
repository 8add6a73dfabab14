import { hashLeaf } from '@claimchain/ledger';
import { ServedLogAuditor, WireEntry } from './served-log.auditor';
import { RemoteLogFixture } from './testing/remote-log.fixture';
import { VerifierErrorCode } from './verifier.errors';

describe(ServedLogAuditor.name, () => {
  let log: RemoteLogFixture;

  beforeEach(() => {
    log = new RemoteLogFixture().grow(100);
  });

  function entries(from = 0, to = log.size): WireEntry[] {
    return Array.from({ length: to - from }, (_, k) => ({
      index: from + k,
      eventId: log.eventIds[from + k],
      eventType: log.events[from + k].type,
      leaf: log.leaves[from + k].toString('base64'),
      leafHash: log.leafHashes[from + k].toString('base64'),
    }));
  }

  async function auditor(size = log.size, olderSizes: number[] = []): Promise<ServedLogAuditor> {
    const expected = [size, ...olderSizes].map(async (s) => ({
      size: s,
      root: await rootOf(s),
      label: `checkpoint ${s}`,
    }));
    return new ServedLogAuditor(size, await Promise.all(expected));
  }

  function rootOf(size: number): Promise<Buffer> {
    return log.root(size);
  }

  function expectFailure(
    run: () => void,
    code: VerifierErrorCode,
    leafIndex: number | undefined,
    message: RegExp,
  ): void {
    expect(run).toThrow(
      expect.objectContaining({
        code,
        at: leafIndex === undefined ? undefined : { leafIndex },
        message: expect.stringMatching(message),
      }),
    );
  }

  it('rebuilds the signed root from every leaf, in pages of any size', async () => {
    for (const pageSize of [1, 7, 64, 100]) {
      const audit = await auditor();
      for (let start = 0; start < log.size; start += pageSize)
        audit.add(entries(start, Math.min(start + pageSize, log.size)));

      expect(audit.finish()).toEqual(await rootOf(100));
    }
  });

  it('verifies the empty log against the empty root', async () => {
    const audit = new ServedLogAuditor(0, [{ size: 0, root: await rootOf(0), label: 'checkpoint 0' }]);

    expect(audit.done).toBe(true);
  });

  it('checks every earlier signed root it passes on the way', async () => {
    const audit = await auditor(100, [1, 37, 64, 99]);
    audit.add(entries(0, 50));
    audit.add(entries(50));

    expect(audit.finish()).toEqual(await rootOf(100));
  });

  it('names the first leaf whose stored hash does not match it', async () => {
    log.leaves[41] = Buffer.from(log.leaves[41].toString().replace('claim.submitted', 'claim.withdrawn'));
    log.leaves[77] = Buffer.from('x');
    const audit = await auditor();

    expectFailure(
      () => audit.add(entries()),
      'VERIFIER.LEAF_HASH_MISMATCH',
      41,
      /^leaf 41: stored hash does not match its leaf$/,
    );
  });

  it('names a leaf whose stored hash was changed', async () => {
    log.leafHashes[0] = hashLeaf(Buffer.from('forged'));
    const audit = await auditor();

    expectFailure(() => audit.add(entries()), 'VERIFIER.LEAF_HASH_MISMATCH', 0, /^leaf 0: /);
  });

  it('fails on the root when a leaf was rewritten together with its stored hash', async () => {
    log.leaves[41] = Buffer.from(log.leaves[41].toString().replace('acme-health', 'other-insurer'));
    log.leafHashes[41] = hashLeaf(log.leaves[41]);
    const audit = await auditor();

    expectFailure(() => audit.add(entries()), 'VERIFIER.ROOT_MISMATCH', undefined, /leaves 0\.\.99 .* checkpoint 100/);
  });

  it('bounds a consistent rewrite by the earliest signed root that no longer matches', async () => {
    log.leaves[41] = Buffer.from(log.leaves[41].toString().replace('acme-health', 'other-insurer'));
    log.leafHashes[41] = hashLeaf(log.leaves[41]);
    const audit = await auditor(100, [40, 42, 64]);

    expectFailure(
      () => audit.add(entries()),
      'VERIFIER.ROOT_MISMATCH',
      undefined,
      /leaves 0\.\.41 .* checkpoint 42 \(size 42\): a leaf in 40\.\.41 was rewritten/,
    );
  });

  it('names a leaf served beside another event id than the one it commits to', async () => {
    const served = entries();
    served[13] = { ...served[13], eventId: log.eventIds[14] };
    const audit = await auditor();

    expectFailure(() => audit.add(served), 'VERIFIER.ENTRY_INVALID', 13, /leaf 13: served event id/);
  });

  it('names the index where the log skipped or repeated an entry', async () => {
    const served = entries();
    served.splice(20, 1);
    const audit = await auditor();

    expectFailure(() => audit.add(served), 'VERIFIER.ENTRY_INVALID', 20, /leaf 20: the log served entry 21/);
  });

  it('rejects a leaf or hash that is not canonical base64', async () => {
    const served = entries();
    served[5] = { ...served[5], leafHash: served[5].leafHash.replace(/=$/, '') };
    const audit = await auditor();

    expectFailure(() => audit.add(served), 'VERIFIER.ENTRY_INVALID', 5, /stored hash is not the base64/);
  });

  type Break = 'wrong event id' | 'changed leaf' | 'unreadable hash';
  it.each<[string, [Break, number][], number]>([
    [
      'a wrong event id at 13, a changed leaf at 50',
      [
        ['wrong event id', 13],
        ['changed leaf', 50],
      ],
      13,
    ],
    [
      'a changed leaf at 5, an unreadable hash at 10',
      [
        ['changed leaf', 5],
        ['unreadable hash', 10],
      ],
      5,
    ],
    [
      'an unreadable hash at 3, a changed leaf at 8',
      [
        ['unreadable hash', 3],
        ['changed leaf', 8],
      ],
      3,
    ],
    [
      'a changed leaf at 60, a wrong event id at 61',
      [
        ['changed leaf', 60],
        ['wrong event id', 61],
      ],
      60,
    ],
  ])('names the first bad index of a page with %s', async (_case, breaks, first) => {
    const served = entries();
    for (const [what, i] of breaks) {
      if (what === 'wrong event id') served[i] = { ...served[i], eventId: 'other' };
      if (what === 'changed leaf') served[i] = { ...served[i], leaf: Buffer.from('{}').toString('base64') };
      if (what === 'unreadable hash') served[i] = { ...served[i], leafHash: '*' };
    }
    const audit = await auditor();

    expect(() => audit.add(served)).toThrow(expect.objectContaining({ at: { leafIndex: first } }));
  });

  it('rejects entries beyond the checkpoint', async () => {
    const audit = await auditor(50);

    expectFailure(() => audit.add(entries(0, 51)), 'VERIFIER.RESPONSE_INVALID', 50, /beyond its checkpoint's 50/);
  });
});
