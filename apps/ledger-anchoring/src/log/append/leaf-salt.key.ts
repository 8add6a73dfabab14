import { readFileSync } from 'node:fs';
import { LedgerAnchoringConfig } from '../../ledger-anchoring.config';
import { leafSaltOf } from '@claimchain/ledger';

export const LEAF_SALTER = Symbol('LEAF_SALTER');

/** The published development key: salts nobody can keep secret, so production refuses it. */
const DEV_LEAF_SALT_KEY = 'claimchain dev-only leaf salt key: never use it in production';

/**
 * Gives each event's leaf its salt (ADR 16): HMAC-SHA256 under the ledger's secret salt key of the event id, so a
 * replay from offset 0 rebuilds the same leaves. Leaves before `saltedFromIndex` (a log that existed before salting)
 * are rebuilt unsalted, as they were written.
 */
export class LeafSalter {
  constructor(
    private readonly key: Buffer,
    readonly saltedFromIndex = 0,
  ) {}

  saltOf(eventId: string): Buffer {
    return leafSaltOf(this.key, eventId);
  }

  isSalted(index: number): boolean {
    return index >= this.saltedFromIndex;
  }
}

/** The key from LEDGER_SALT_KEY_FILE (its text, trimmed, at least 32 characters), else the dev key outside production. */
export function loadLeafSalter(config: LedgerAnchoringConfig): LeafSalter {
  const { saltKeyFile, saltKeyRequired, saltedFromIndex } = config.ledger;
  if (!saltKeyFile) {
    if (saltKeyRequired) {
      throw new Error(
        'LEDGER_SALT_KEY_FILE is not set: with NODE_ENV=production the ledger needs a secret key to salt its leaves ' +
          '(e.g. `openssl rand -hex 32`); the dev-only key is published',
      );
    }
    return new LeafSalter(Buffer.from(DEV_LEAF_SALT_KEY, 'utf8'), saltedFromIndex);
  }
  const key = readFileSync(saltKeyFile, 'utf8').trim();
  if (key.length < 32) throw new Error(`LEDGER_SALT_KEY_FILE ${saltKeyFile} holds fewer than 32 characters`);
  return new LeafSalter(Buffer.from(key, 'utf8'), saltedFromIndex);
}
