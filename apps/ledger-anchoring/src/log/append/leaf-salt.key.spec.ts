import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLedgerAnchoringConfig } from '../../ledger-anchoring.config';
import { loadLeafSalter } from './leaf-salt.key';

describe(loadLeafSalter.name, () => {
  const dir = mkdtempSync(join(tmpdir(), 'leaf-salt-'));
  const configWith = (env: Record<string, string>) =>
    loadLedgerAnchoringConfig({ ...env, AUTH_JWKS_FILE: '/jwks.json' });

  it('refuses to start in production without LEDGER_SALT_KEY_FILE: the dev key is published', () => {
    const config = configWith({});
    expect(() => loadLeafSalter({ ...config, ledger: { ...config.ledger, saltKeyRequired: true } })).toThrow(
      /LEDGER_SALT_KEY_FILE is not set/,
    );
  });

  it('salts with the file’s key, differently from the dev key, and refuses a short key', () => {
    const file = join(dir, 'salt.key');
    writeFileSync(file, `${'ab'.repeat(32)}\n`);
    const own = loadLeafSalter(configWith({ LEDGER_SALT_KEY_FILE: file }));
    const dev = loadLeafSalter(configWith({}));
    const id = '0190f1c2-7a4b-7cde-8f01-23456789abcd';
    expect(own.saltOf(id)).toHaveLength(32);
    expect(own.saltOf(id)).not.toEqual(dev.saltOf(id));
    writeFileSync(file, 'short');
    expect(() => loadLeafSalter(configWith({ LEDGER_SALT_KEY_FILE: file }))).toThrow(/fewer than 32/);
  });

  it('salts from LEDGER_SALTED_FROM_INDEX on', () => {
    const salter = loadLeafSalter(configWith({ LEDGER_SALTED_FROM_INDEX: '5' }));
    expect([4, 5, 6].map((i) => salter.isSalted(i))).toEqual([false, true, true]);
  });
});
