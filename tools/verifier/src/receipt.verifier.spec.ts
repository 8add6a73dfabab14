import { randomUUID } from 'node:crypto';
import { generateNoteKey, parseVerifierKey } from '@claimchain/ledger';
import { ClaimReceiptV1 } from './claim-receipt.schema';
import { VerifierKey } from './cli-input.reader';
import { verifyClaimReceipt } from './receipt.verifier';
import { flipBit } from './testing/cli.harness';
import { RemoteLogFixture, testEvent, TEST_ORIGIN } from './testing/remote-log.fixture';
import { VerifierErrorCode } from './verifier.errors';

describe(verifyClaimReceipt.name, () => {
  const claimId = 'claim-7';
  let log: RemoteLogFixture;
  let key: VerifierKey;
  let receipt: ClaimReceiptV1;

  beforeEach(async () => {
    // Claim 7's events scattered through a ragged tree (size 13: three perfect subtrees on the right edge).
    log = new RemoteLogFixture();
    log.grow(2).append(testEvent(claimId)).grow(4).append(testEvent(claimId, 'treatment.verified'));
    log.grow(4).append(testEvent(claimId, 'payout.released'));
    key = keyOf(log.keys.verifierKey);
    receipt = await log.receipt(claimId);
  });

  function verify(r: ClaimReceiptV1 = receipt, k: VerifierKey = key) {
    return verifyClaimReceipt(r, k, TEST_ORIGIN);
  }

  function expectRejected(r: ClaimReceiptV1, code: VerifierErrorCode, message?: RegExp, k: VerifierKey = key): void {
    expect(() => verify(r, k)).toThrow(
      expect.objectContaining({ code, ...(message && { message: expect.stringMatching(message) }) }),
    );
  }

  it('verifies every event of the claim against its signed checkpoint', () => {
    const report = verify();

    expect(report.events.map((e) => e.leafIndex)).toEqual([2, 7, 12]);
    expect(report.checkpoints).toEqual([{ size: 13, root: expect.any(String) }]);
    expect(report.warnings).toEqual([]);
  });

  it('verifies entries proven against different checkpoints of the same log', async () => {
    const early = (await log.receipt(claimId, 8)).entries;
    const r = { ...receipt, entries: [...early, receipt.entries[2]] };

    expect(verify(r).checkpoints.map((c) => c.size)).toEqual([8, 13]);
  });

  it('rejects every single bit flip in every inclusion proof element', () => {
    let flips = 0;
    receipt.entries.forEach((entry, e) => {
      entry.inclusionProof.forEach((element, p) => {
        const bytes = Buffer.from(element, 'base64');
        for (let bit = 0; bit < bytes.length * 8; bit++) {
          const flipped = flipBit(bytes, bit).toString('base64');
          const r = withEntry(receipt, e, { inclusionProof: replaceAt(entry.inclusionProof, p, flipped) });
          expectRejected(r, 'VERIFIER.INCLUSION_INVALID');
          flips++;
        }
      });
    });
    expect(flips).toBe(256 * receipt.entries.reduce((n, e) => n + e.inclusionProof.length, 0));
  });

  it('rejects every wrong leaf index, in and out of range', () => {
    receipt.entries.forEach((entry, e) => {
      for (let leafIndex = 0; leafIndex <= entry.treeSize + 1; leafIndex++) {
        if (leafIndex === entry.leafIndex) continue;
        expectRejected(withEntry(receipt, e, { leafIndex }), 'VERIFIER.INCLUSION_INVALID', /not proven at leaf/);
      }
    });
  });

  it('rejects a tree size other than the checkpoint it names', () => {
    expectRejected(withEntry(receipt, 0, { treeSize: 12 }), 'VERIFIER.TREE_SIZE_MISMATCH', /treeSize is 12 .* size 13/);
  });

  it('rejects a proof for another tree size under a checkpoint of that size', async () => {
    // The proof is genuine for size 13; the checkpoint and treeSize genuinely say 12.
    const r = withEntry(receipt, 0, { treeSize: 12, checkpoint: await log.checkpoint(12) });

    expectRejected(r, 'VERIFIER.INCLUSION_INVALID');
  });

  it.each([
    ['an extra element at the end', (p: string[]) => [...p, p[0]]],
    ['an extra element at the start', (p: string[]) => [p[0], ...p]],
    ['the last element missing', (p: string[]) => p.slice(0, -1)],
    ['the first element missing', (p: string[]) => p.slice(1)],
    ['no elements', () => []],
    ['two elements swapped', (p: string[]) => [p[1], p[0], ...p.slice(2)]],
  ])('rejects a proof with %s', (_case, change) => {
    receipt.entries.forEach((entry, e) => {
      expectRejected(
        withEntry(receipt, e, { inclusionProof: change(entry.inclusionProof) }),
        'VERIFIER.INCLUSION_INVALID',
      );
    });
  });

  it.each([
    ['not base64', '!!!!'],
    ['31 bytes', Buffer.alloc(31).toString('base64')],
    ['33 bytes', Buffer.alloc(33).toString('base64')],
    ['base64 without padding', Buffer.alloc(32).toString('base64').replace(/=+$/, '')],
  ])('rejects a proof element that is %s', (_case, element) => {
    const r = withEntry(receipt, 1, { inclusionProof: replaceAt(receipt.entries[1].inclusionProof, 0, element) });

    expectRejected(r, 'VERIFIER.INCLUSION_INVALID', /element 0 is not the base64 of a 32-byte hash/);
  });

  it.each([
    ['a changed amount in data', { data: { amount: '1200.00' } }],
    ['extra data', { data: { amount: '120.00', note: 'x' } }],
    ['a changed type', { type: 'claim.withdrawn' }],
    ['a changed time', { time: '2026-11-21T10:00:00.000Z' }],
    ['a changed source', { source: '/payout' }],
    ['a changed tenant', { tenantid: 'other-insurer' }],
    ['a removed tenant', { tenantid: undefined }],
    ['a changed id', { id: randomUUID() }],
  ])('rejects an event with %s', (_case, change) => {
    const r = withEntry(receipt, 1, { event: { ...receipt.entries[1].event, ...change } });

    expectRejected(r, 'VERIFIER.INCLUSION_INVALID');
  });

  it('ignores transport attributes the ledger does not commit to', () => {
    const r = withEntry(receipt, 1, { event: { ...receipt.entries[1].event, correlationid: 'replayed' } });

    expect(verify(r).events).toHaveLength(3);
  });

  it("rejects another claim's event, although its proof is genuine", async () => {
    const other = (await log.receipt(log.events[0].subject)).entries[0];

    expectRejected({ ...receipt, entries: [...receipt.entries, other] }, 'VERIFIER.SUBJECT_MISMATCH', /entry 3/);
  });

  it("rejects another claim's event relabelled with this claim's id: the subject is committed", async () => {
    const other = (await log.receipt(log.events[0].subject)).entries[0];
    const relabelled = { ...other, event: { ...other.event, subject: claimId } };

    expectRejected({ ...receipt, entries: [...receipt.entries, relabelled] }, 'VERIFIER.INCLUSION_INVALID', /entry 3/);
  });

  it('rejects a checkpoint signed with another key, even when the receipt names that key', async () => {
    const forger = generateNoteKey(TEST_ORIGIN);
    const forged = withEntry(receipt, 2, { checkpoint: await log.checkpoint(13, forger.signerKey) });

    expectRejected(
      { ...forged, verifierKey: forger.verifierKey },
      'VERIFIER.SIGNATURE_INVALID',
      /entry 2 .*not signed by/,
    );
  });

  it('rejects the genuine receipt under the wrong --key', () => {
    expectRejected(
      receipt,
      'VERIFIER.SIGNATURE_INVALID',
      /not signed by/,
      keyOf(generateNoteKey(TEST_ORIGIN).verifierKey),
    );
  });

  it('rejects a checkpoint whose signature was altered', () => {
    const note = receipt.entries[0].checkpoint;
    const [text, sigLine] = note.split('\n\n');
    const sig = Buffer.from(sigLine.trim().split(' ').pop()!, 'base64');
    sig[10] ^= 1;
    const altered = `${text}\n\n— ${TEST_ORIGIN} ${sig.toString('base64')}\n`;

    expectRejected(withEntry(receipt, 0, { checkpoint: altered }), 'VERIFIER.SIGNATURE_INVALID', /does not verify/);
  });

  it('rejects a checkpoint whose root or size was altered, in any bit', () => {
    const [origin, size, root, ...rest] = receipt.entries[0].checkpoint.split('\n');
    const rootBytes = Buffer.from(root, 'base64');
    for (let bit = 0; bit < 256; bit++) {
      const altered = [origin, size, flipBit(rootBytes, bit).toString('base64'), ...rest].join('\n');
      expectRejected(withEntry(receipt, 0, { checkpoint: altered }), 'VERIFIER.SIGNATURE_INVALID', /does not verify/);
    }
    const resized = [origin, '12', root, ...rest].join('\n');
    expectRejected(withEntry(receipt, 0, { checkpoint: resized, treeSize: 12 }), 'VERIFIER.SIGNATURE_INVALID');
  });

  it('rejects a checkpoint the key signed for another log', async () => {
    const r = withEntry(receipt, 0, { checkpoint: await log.checkpoint(13, log.keys.signerKey, 'other.log/ledger') });

    expectRejected(r, 'VERIFIER.CHECKPOINT_INVALID', /for log "other.log\/ledger"/);
  });

  it('rejects a checkpoint that is not a signed note', () => {
    expectRejected(withEntry(receipt, 0, { checkpoint: 'log.test/ledger\n13\n' }), 'VERIFIER.CHECKPOINT_INVALID');
  });

  it('warns, and verifies with --key only, when the receipt names another key', () => {
    const r = { ...receipt, verifierKey: generateNoteKey(TEST_ORIGIN).verifierKey };

    expect(verify(r).warnings).toEqual([expect.stringMatching(/ignored and --key used instead/)]);
  });

  it('rejects two signed checkpoints of one size with different roots as a fork', async () => {
    // The same key signed a different history of size 13: a split view only a receipt holder can expose.
    const fork = new RemoteLogFixture(log.keys);
    fork.append(...log.events.slice(0, 12), testEvent('someone-else'));
    const forked = (await fork.receipt(claimId, 13)).entries[0];

    expectRejected({ ...receipt, entries: [...receipt.entries, forked] }, 'VERIFIER.LOG_FORKED', /entries 2 and 3/);
  });

  it('rejects two different events proven at one leaf index as a fork', async () => {
    const fork = new RemoteLogFixture(log.keys);
    fork.append(...log.events.slice(0, 7), testEvent(claimId, 'treatment.rejected'));
    const forked = (await fork.receipt(claimId, 8)).entries[1];

    expectRejected({ ...receipt, entries: [...receipt.entries, forked] }, 'VERIFIER.LOG_FORKED', /leaf 7/);
  });
});

describe(`${verifyClaimReceipt.name} of salted leaves (v2, ADR 16)`, () => {
  const claimId = 'claim-salted';
  let log: RemoteLogFixture;
  let key: VerifierKey;
  let receipt: ClaimReceiptV1;

  beforeEach(async () => {
    // Leaves from before salting (v1) and after (v2) in one log: both stay verifiable.
    log = new RemoteLogFixture();
    log.grow(2).append(testEvent(claimId));
    log.saltKey = Buffer.alloc(32, 9);
    log.grow(3).append(testEvent(claimId, 'claim.cancelled')).grow(2);
    key = keyOf(log.keys.verifierKey);
    receipt = await log.receipt(claimId);
  });

  it('recomputes a salted leaf with the salt the receipt carries, beside an unsalted one', () => {
    expect(receipt.entries.map((e) => e.dataSalt === undefined)).toEqual([true, false]);
    expect(verifyClaimReceipt(receipt, key, TEST_ORIGIN).events.map((e) => e.leafIndex)).toEqual([2, 6]);
  });

  it('cannot confirm the event without its salt: the public datahash is not the hash of the data', () => {
    const { dataSalt: _, ...unsalted } = receipt.entries[1];
    const r = { ...receipt, entries: [receipt.entries[0], unsalted] };
    expect(() => verifyClaimReceipt(r, key, TEST_ORIGIN)).toThrow(
      expect.objectContaining({ code: 'VERIFIER.INCLUSION_INVALID' }),
    );
  });

  it('still detects a changed event, and a wrong salt', () => {
    const changed = withEntry(receipt, 1, { event: { ...receipt.entries[1].event, data: { amount: '1.00' } } });
    expect(() => verifyClaimReceipt(changed, key, TEST_ORIGIN)).toThrow(
      expect.objectContaining({ code: 'VERIFIER.INCLUSION_INVALID' }),
    );
    const wrongSalt = withEntry(receipt, 1, { dataSalt: 'ab'.repeat(32) });
    expect(() => verifyClaimReceipt(wrongSalt, key, TEST_ORIGIN)).toThrow(
      expect.objectContaining({ code: 'VERIFIER.INCLUSION_INVALID' }),
    );
  });
});

function keyOf(text: string): VerifierKey {
  return { text, verifier: parseVerifierKey(text) };
}

function withEntry(
  receipt: ClaimReceiptV1,
  index: number,
  change: Partial<ClaimReceiptV1['entries'][number]>,
): ClaimReceiptV1 {
  return { ...receipt, entries: receipt.entries.map((e, i) => (i === index ? { ...e, ...change } : e)) };
}

function replaceAt<T>(list: readonly T[], index: number, value: T): T[] {
  return list.map((v, i) => (i === index ? value : v));
}
