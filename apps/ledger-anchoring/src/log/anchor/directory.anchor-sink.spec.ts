import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLedgerAnchoringConfig } from '../../ledger-anchoring.config';
import { anchorSinksFrom } from './anchor-sinks.config';
import { DirectoryAnchorSink } from './directory.anchor-sink';

const checkpoint = (treeSize: number) => ({
  origin: 'claimchain.test/ledger',
  treeSize,
  rootHash: Buffer.alloc(32, treeSize),
  note: `claimchain.test/ledger\n${treeSize}\n${Buffer.alloc(32, treeSize).toString('base64')}\n\n— sig\n`,
});

describe(DirectoryAnchorSink.name, () => {
  it('writes each checkpoint as <treeSize>.checkpoint holding the signed note, creating the directory', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'anchor-sink-')), 'nested', 'anchors');
    const sink = new DirectoryAnchorSink(dir);
    await sink.publish(checkpoint(7));
    await sink.publish(checkpoint(12));
    expect(readdirSync(dir).sort()).toEqual(['12.checkpoint', '7.checkpoint']);
    expect(readFileSync(join(dir, '7.checkpoint'), 'utf8')).toBe(checkpoint(7).note);
  });

  it('accepts the same checkpoint twice, leaving one file with the same bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anchor-sink-'));
    const sink = new DirectoryAnchorSink(dir);
    await sink.publish(checkpoint(3));
    await sink.publish(checkpoint(3));
    expect(readdirSync(dir)).toEqual(['3.checkpoint']);
    expect(readFileSync(join(dir, '3.checkpoint'), 'utf8')).toBe(checkpoint(3).note);
  });

  it('is named after its absolute directory, so its progress survives a restart', () => {
    expect(new DirectoryAnchorSink('/var/anchors/../anchors').name).toBe('directory:/var/anchors');
  });
});

describe(anchorSinksFrom.name, () => {
  const ledger = (env: NodeJS.ProcessEnv) => loadLedgerAnchoringConfig(env).ledger;

  it('has no sinks when LEDGER_ANCHOR_DIR is unset', () => {
    expect(anchorSinksFrom(ledger({}))).toEqual([]);
  });

  it('adds the directory sink, preferring the service-prefixed variable', () => {
    const sinks = anchorSinksFrom(ledger({ LEDGER_ANCHOR_DIR: '/a', LEDGER_ANCHORING_LEDGER_ANCHOR_DIR: '/b' }));
    expect(sinks.map((s) => s.name)).toEqual(['directory:/b']);
  });

  it('refuses an empty directory name', () => {
    expect(() => ledger({ LEDGER_ANCHOR_DIR: '' })).toThrow(/LEDGER_ANCHOR_DIR/);
  });
});
