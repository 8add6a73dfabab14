/**
 * C2SP tlog-checkpoint bodies (https://c2sp.org/tlog-checkpoint): the signed statement "log <origin> had <size>
 * leaves with root <root>". Sign the formatted text with `signNote`; parse the text `openNote` returns.
 *
 *   <origin>\n<tree size, decimal>\n<base64 root hash>\n[<extension line>\n]*
 */
import { LedgerError } from './ledger.errors';
import { HASH_SIZE } from './rfc9162.hasher';

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Buffer;
}

export interface ParsedCheckpoint extends Checkpoint {
  /** Opaque extra lines; the spec allows them and discourages them, so we never write any. */
  readonly extensions: string[];
}

export function formatCheckpoint({ origin, size, root }: Checkpoint): string {
  if (origin === '' || origin.includes('\n')) throw malformed('origin must be one non-empty line');
  if (!Number.isSafeInteger(size) || size < 0) throw malformed(`tree size ${size} is not a non-negative integer`);
  if (root.length !== HASH_SIZE) throw malformed(`root has ${root.length} bytes, expected ${HASH_SIZE}`);
  return `${origin}\n${size}\n${root.toString('base64')}\n`;
}

export function parseCheckpoint(text: string): ParsedCheckpoint {
  if (!text.endsWith('\n')) throw malformed('text must end in a newline');
  const [origin, size, root, ...extensions] = text.slice(0, -1).split('\n');
  if (root === undefined) throw malformed('needs origin, size and root lines');
  if (origin === '') throw malformed('origin is empty');
  // No leading zeros: one size, one spelling, so equal checkpoints are equal texts.
  if (!/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size))) {
    throw malformed(`tree size ${JSON.stringify(size)} is not a canonical decimal`);
  }
  const rootBytes = Buffer.from(root, 'base64');
  if (rootBytes.length !== HASH_SIZE || rootBytes.toString('base64') !== root) {
    throw malformed('root is not the standard base64 of a 32-byte hash');
  }
  if (extensions.some((line) => line === '')) throw malformed('extension lines must not be empty');
  return { origin, size: Number(size), root: rootBytes, extensions };
}

function malformed(why: string): LedgerError {
  return new LedgerError('LEDGER.CHECKPOINT_MALFORMED', `malformed checkpoint: ${why}`);
}
