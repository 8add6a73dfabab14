import { join } from 'node:path';
import { generateNoteKey } from '@claimchain/ledger';
import { receiptCommand } from './receipt.command';
import { runVerifier } from './testing/cli.harness';
import { testEvent } from './testing/remote-log.fixture';
import { freshLogPerTest } from './testing/log-under-test';

describe(receiptCommand.name, () => {
  const t = freshLogPerTest();

  let receiptFile: string;

  beforeEach(async () => {
    t.log.grow(3).append(testEvent('claim-7')).grow(2).append(testEvent('claim-7', 'treatment.verified'));
    receiptFile = await t.files.write('receipt.json', JSON.stringify(await t.log.receipt('claim-7')));
  });

  it('exits 0 and prints one JSON result for a valid receipt', async () => {
    const { exit, result, stderr } = await runVerifier('receipt', receiptFile, '--key', t.key);

    expect(exit).toBe(0);
    expect(result).toMatchObject({ result: 'verified', command: 'receipt', claimId: 'claim-7', warnings: [] });
    expect(result.events).toHaveLength(2);
    expect(stderr).toMatch(/^verified: receipt for claim claim-7: 2 event\(s\)/);
  });

  it('verifies the example receipt of RECEIPT-FORMAT.md with its key', async () => {
    const testdata = join(__dirname, '../testdata');
    const example = join(testdata, 'receipt.example.json');

    const { exit, result } = await runVerifier('receipt', example, '--key', `@${join(testdata, 'example.vkey')}`);

    expect(exit).toBe(0);
    expect(result).toMatchObject({ checkpoints: [{ size: 6 }, { size: 11 }] });
    expect(result.events).toHaveLength(4);
  });

  it('reads the key from a file given as @file', async () => {
    const keyFile = await t.files.write('log.vkey', t.key + '\n');

    expect((await runVerifier('receipt', receiptFile, '--key', `@${keyFile}`)).exit).toBe(0);
  });

  it('exits 1 naming the entry when the key is not the one that signed', async () => {
    const { exit, result, stderr } = await runVerifier(
      'receipt',
      receiptFile,
      '--key',
      generateNoteKey('log.test/ledger').verifierKey,
    );

    expect(exit).toBe(1);
    expect(result).toMatchObject({ result: 'failed', code: 'VERIFIER.SIGNATURE_INVALID', entry: 0, leafIndex: 3 });
    expect(stderr).toMatch(/^FAILED: entry 0 .*not signed by log\.test\/ledger\+/);
  });

  it('exits 1 when an event was tampered with', async () => {
    const receipt = await t.log.receipt('claim-7');
    receipt.entries[1].event = { ...receipt.entries[1].event, data: { amount: '9999.00' } };

    const { exit, result } = await runVerifier(
      'receipt',
      await t.files.write('tampered.json', JSON.stringify(receipt)),
      '--key',
      t.key,
    );

    expect(exit).toBe(1);
    expect(result).toMatchObject({ code: 'VERIFIER.INCLUSION_INVALID', entry: 1, leafIndex: 6 });
  });

  it('warns on stderr and in the result when the receipt names another key', async () => {
    const receipt = { ...(await t.log.receipt('claim-7')), verifierKey: 'someone+00000000+AA==' };

    const { exit, result, stderr } = await runVerifier(
      'receipt',
      await t.files.write('r.json', JSON.stringify(receipt)),
      '--key',
      t.key,
    );

    expect(exit).toBe(0);
    expect(stderr).toMatch(/^warning: the receipt names verifier key someone\+00000000\+AA==/);
    expect(result.warnings).toHaveLength(1);
  });

  it.each([
    ['not JSON', '{"format": "claimchain.receipt.v1",', /is not JSON/],
    ['of another format', JSON.stringify({ format: 'claimchain.receipt.v2' }), /\/format: Invalid literal value/],
    [
      'without entries',
      JSON.stringify({ format: 'claimchain.receipt.v1', claimId: 'c', verifierKey: 'k', entries: [] }),
      /\/entries/,
    ],
  ])('exits 2 for a receipt file that is %s', async (_case, content, message) => {
    const { exit, result } = await runVerifier('receipt', await t.files.write('bad.json', content), '--key', t.key);

    expect(exit).toBe(2);
    expect(result).toMatchObject({
      result: 'invalid-input',
      code: 'VERIFIER.INPUT_INVALID',
      message: expect.stringMatching(message),
    });
  });

  it('exits 2 for an event without data', async () => {
    const receipt = await t.log.receipt('claim-7');
    const { data: _data, ...withoutData } = receipt.entries[0].event;
    const bad = { ...receipt, entries: [{ ...receipt.entries[0], event: withoutData }] };

    const { exit, result } = await runVerifier(
      'receipt',
      await t.files.write('bad.json', JSON.stringify(bad)),
      '--key',
      t.key,
    );

    expect(exit).toBe(2);
    expect(result.message).toMatch(/\/entries\/0\/event\/data: Required/);
  });

  it.each([
    ['a missing receipt file', ['receipt', '/nonexistent/receipt.json', '--key', 'KEY'], 'VERIFIER.INPUT_UNREADABLE'],
    ['a malformed key', ['receipt', 'RECEIPT', '--key', 'not-a-key'], 'VERIFIER.KEY_INVALID'],
    ['a missing key file', ['receipt', 'RECEIPT', '--key', '@/nonexistent/key'], 'VERIFIER.INPUT_UNREADABLE'],
    ['no --key', ['receipt', 'RECEIPT'], 'VERIFIER.USAGE'],
    ['two receipt files', ['receipt', 'RECEIPT', 'RECEIPT', '--key', 'KEY'], 'VERIFIER.USAGE'],
    [
      'an option the command does not take',
      ['receipt', 'RECEIPT', '--key', 'KEY', '--url', 'http://x'],
      'VERIFIER.USAGE',
    ],
    ['an unknown option', ['receipt', 'RECEIPT', '--key', 'KEY', '--verbose'], 'VERIFIER.USAGE'],
  ])('exits 2 for %s', async (_case, argv, code) => {
    const args = argv.map((a) => (a === 'KEY' ? t.key : a === 'RECEIPT' ? receiptFile : a));

    const { exit, result } = await runVerifier(...args);

    expect(exit).toBe(2);
    expect(result).toMatchObject({ result: 'invalid-input', code });
  });
});
