/**
 * `npm run audit:ledger`: runs ledger-anchoring's own audit (LedgerAuditService) over its Postgres tables from an ops
 * shell, without the service running and without its signing key.
 *
 * Unlike `claimchain-verify audit`, which sees only the public API, this reads the stored interior nodes too, so a
 * subtree hash changed behind the service's back is named even while every checkpoint root still matches. Checkpoint
 * signatures are checked with verifier keys only: the audit needs nothing of its NoteSigner but `verifierKey`, so
 * the command hands it a signer that holds no private key and cannot sign.
 *
 * Prints one JSON line. Exit codes (as replay's and the verifier's): 0 the log matches, 1 a finding (the first index
 * that does not match, or a stored checkpoint whose note does not verify), 2 bad input (usage, a malformed key, no
 * checkpoint signed by the keys given, not a ledger database), 3 database unreachable, 4 a bug.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DataSource, DataSourceOptions } from 'typeorm';
import { loadLedgerAnchoringConfig } from '../../ledger-anchoring.config';
import { LedgerError, LedgerErrorCode, NoteSigner, parseVerifierKey } from '@claimchain/ledger';
import { LedgerAuditService, StoredCheckpointError } from './ledger-audit.service';
import { dataSourceOptions } from '../../persistence/data-source.options';
import { LedgerRepository } from '../../persistence/ledger.repository';

export const EXIT = { ok: 0, finding: 1, input: 2, unreachable: 3, internal: 4 } as const;

export const USAGE =
  'usage: npm run audit:ledger -- [--key <verifier key|@file>]... [--leaves-only] [--database <url>]\n' +
  '  --key          the ledger verifier key(s), current first; repeat it (or list them comma-separated) for the keys\n' +
  '                 that signed checkpoints before a rotation. Default: LEDGER_VERIFIER_KEY\n' +
  '  --leaves-only  rehash the leaves and match the checkpoint roots, skipping the stored subtree nodes\n' +
  "  --database     ledger-anchoring's database. Default: from DATABASE_URL/DATABASE_PREFIX (or LEDGER_ANCHORING_*)";

/** A stored checkpoint that does not open under keys that did sign others: the stored note was changed. */
const NOTE_FINDINGS: readonly LedgerErrorCode[] = [
  'LEDGER.NOTE_BAD_SIGNATURE',
  'LEDGER.NOTE_MALFORMED',
  'LEDGER.CHECKPOINT_MALFORMED',
];
/** Keys that cannot be used as given (two different keys under one name and id, say): bad input. */
const KEY_ERRORS: readonly LedgerErrorCode[] = [
  'LEDGER.KEY_MALFORMED',
  'LEDGER.KEY_UNKNOWN_ALGORITHM',
  'LEDGER.KEY_ID_MISMATCH',
  'LEDGER.NOTE_AMBIGUOUS_KEY',
];
/** Postgres or the network refusing the session: the database is unreachable, not the log bad. */
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', '57P01']);
const UNDEFINED_TABLE = '42P01';

class InputError extends Error {}
class UnreachableError extends Error {}

export interface LedgerAuditIo {
  env: NodeJS.ProcessEnv;
  stdout: { write(line: string): unknown };
  stderr: { write(line: string): unknown };
}

export async function runLedgerAudit(argv: string[], io: LedgerAuditIo): Promise<number> {
  const print = (o: object) => io.stdout.write(JSON.stringify(o) + '\n');
  let dataSource: DataSource | undefined;
  try {
    const { positionals, values } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        key: { type: 'string', multiple: true },
        'leaves-only': { type: 'boolean', default: false },
        database: { type: 'string' },
      },
    });
    if (positionals.length > 0) throw new InputError(USAGE);
    const config = ledgerConfig(io.env);
    const keys = values.key ? values.key.flatMap(keysOf) : config.ledger.verifierKeys;
    if (keys.length === 0)
      throw new InputError(`the ledger's verifier key is needed: --key or LEDGER_VERIFIER_KEY\n${USAGE}`);
    const [current, ...earlier] = keys.map(checkedKey);

    dataSource = await connect(values.database ?? config.databaseUrl);
    const service = new LedgerAuditService(dataSource, new LedgerRepository(), verifierOnlySigner(current), earlier);
    const report = await service.audit({ checkNodes: !values['leaves-only'] });
    if (report.finding) {
      const { code, index, message, checkpointSize, node } = report.finding;
      print({
        result: 'mismatch',
        code,
        index,
        message,
        ...(checkpointSize !== undefined && { checkpointSize }),
        ...(node && { node }),
      });
      return EXIT.finding;
    }
    print({
      result: 'ok',
      treeSize: report.size,
      root: report.root.toString('base64'),
      checkpointsVerified: report.checkpointsVerified,
    });
    return EXIT.ok;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof LedgerError && NOTE_FINDINGS.includes(error.code)) {
      // A checkpoint's note names no leaf: the index stays null, and checkpointSize says which checkpoint.
      const checkpointSize = error instanceof StoredCheckpointError ? error.treeSize : null;
      print({ result: 'mismatch', code: error.code, index: null, checkpointSize, message });
      return EXIT.finding;
    }
    if (error instanceof LedgerError && error.code === 'LEDGER.NOTE_UNKNOWN_KEY') {
      print({
        result: 'input-error',
        message:
          `a stored checkpoint has no signature by the key(s) given (${message}): pass the ledger's verifier key, ` +
          'and after a rotation every key that signed a checkpoint, current first (a checkpoint re-signed by another ' +
          'key also shows this way)',
      });
      return EXIT.input;
    }
    if (
      error instanceof InputError ||
      isArgError(error) ||
      (error instanceof LedgerError && KEY_ERRORS.includes(error.code))
    ) {
      print({ result: 'input-error', message });
      return EXIT.input;
    }
    if (codeOf(error) === UNDEFINED_TABLE) {
      print({ result: 'input-error', message: `not a migrated ledger-anchoring database: ${message}` });
      return EXIT.input;
    }
    if (error instanceof UnreachableError || CONNECTION_ERRORS.has(codeOf(error) ?? '')) {
      print({ result: 'unreachable', message });
      return EXIT.unreachable;
    }
    io.stderr.write(`internal error: ${error instanceof Error ? (error.stack ?? message) : message}\n`);
    print({ result: 'internal-error', message });
    return EXIT.internal;
  } finally {
    await dataSource?.destroy().catch(() => undefined);
  }
}

/**
 * The service's configuration, read as the service reads it. The command serves nothing and signs nothing, so the
 * NODE_ENV=production refusals of dev-only settings (identity provider, webhook keys) are not its business.
 */
function ledgerConfig(env: NodeJS.ProcessEnv) {
  try {
    return loadLedgerAnchoringConfig({ ...env, NODE_ENV: undefined });
  } catch (error) {
    throw new InputError(error instanceof Error ? error.message : String(error));
  }
}

/** `--key` takes a key, a comma-separated list (as LEDGER_VERIFIER_KEY and its ConfigMap hold them), or `@file`. */
function keysOf(arg: string): string[] {
  let text = arg;
  if (arg.startsWith('@')) {
    try {
      text = readFileSync(arg.slice(1), 'utf8');
    } catch (error) {
      throw new InputError(`--key ${arg}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const keys = text.split(/[\s,]+/).filter((k) => k !== '');
  if (keys.length === 0) throw new InputError(`--key ${arg}: no key in it`);
  return keys;
}

function checkedKey(key: string): string {
  try {
    parseVerifierKey(key);
    return key;
  } catch (error) {
    throw new InputError(`not a note verifier key (<name>+<keyid>+<key>): ${key}: ${String(error)}`);
  }
}

/** All LedgerAuditService reads of its signer is the public half; anything asking this one to sign is a bug. */
function verifierOnlySigner(verifierKey: string): NoteSigner {
  const { name, keyId } = parseVerifierKey(verifierKey);
  return {
    name,
    keyId,
    verifierKey,
    sign: () => {
      throw new Error('the ledger audit command holds no signing key');
    },
  };
}

async function connect(url: string): Promise<DataSource> {
  // A host that drops packets would otherwise hang the command until the OS gives up.
  const dataSource = new DataSource({ ...dataSourceOptions(url), connectTimeoutMS: 10_000 } as DataSourceOptions);
  try {
    return await dataSource.initialize();
  } catch (error) {
    throw new UnreachableError(
      `ledger-anchoring's database: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** By code, not class: node's own errors come from another realm under a test runner's sandbox. */
const isArgError = (e: unknown) => codeOf(e)?.startsWith('ERR_PARSE_ARGS') === true;

/** A Node system error's or a Postgres error's code. */
function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}
