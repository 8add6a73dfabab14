/**
 * `claimchain-verify audit --url <log> --key <vkey>`: fetch the signed checkpoint, stream every entry up to its size
 * and rebuild the tree; the log verifies when every stored hash matches its leaf and the rebuilt root is the signed
 * one (and the root of every `--old` checkpoint at its size). The next page is fetched while this one is hashed.
 */
import { VerifiedCheckpoint, verifyCheckpointNote } from './checkpoint.verifier';
import { CommandResult } from './command.result';
import { VerifierKey } from './cli-input.reader';
import { LedgerHttpClient, MAX_ENTRIES_PER_PAGE } from './ledger-http.client';
import { whyInconsistent } from './consistency.check';
import { locateRewrite } from './rewrite.locator';
import { ExpectedRoot, RootMismatchError, ServedLogAuditor, WireEntry } from './served-log.auditor';
import { listCheckpointFiles, readSavedCheckpoint, saveCheckpoint } from './saved-checkpoint.file';
import { VerifierError } from './verifier.errors';

export interface AuditCommandOptions {
  readonly url: string;
  readonly key: VerifierKey;
  readonly origin: string;
  /** Earlier checkpoints the log must still contain: files, and directories of `*.checkpoint` files. */
  readonly old: readonly string[];
  readonly checkpointDirs: readonly string[];
  readonly save?: string;
  readonly timeoutMs: number;
  readonly pageSize?: number;
}

export async function auditCommand(options: AuditCommandOptions): Promise<CommandResult> {
  const { key, origin } = options;
  const client = new LedgerHttpClient(options.url, options.timeoutMs);
  const warnings: string[] = [];
  // Saved checkpoints are read before the log is asked, so an honest log's current checkpoint covers them all.
  let paths = [...options.old];
  for (const dir of options.checkpointDirs) {
    const found = await listCheckpointFiles(dir);
    if (found.length === 0) warnings.push(`no *.checkpoint files in ${dir}`);
    paths = paths.concat(found);
  }
  const saved: VerifiedCheckpoint[] = [];
  // One at a time: an anchor directory may hold thousands of files.
  for (const path of paths) saved.push(await readSavedCheckpoint(path, key.verifier, origin));
  const current = verifyCheckpointNote(await client.checkpoint(), key.verifier, origin, `the log's checkpoint`);
  for (const [i, old] of saved.entries()) {
    if (old.size > current.size) {
      throw new VerifierError(
        'VERIFIER.CONSISTENCY_INVALID',
        `the log's checkpoint has ${current.size} leaves, fewer than the ${old.size} of saved checkpoint ` +
          `${paths[i]}: the log was truncated or rolled back`,
      );
    }
  }
  const expected = [
    { size: current.size, root: current.root, label: `the log's signed checkpoint` },
    ...saved.map((old, i) => ({ size: old.size, root: old.root, label: `saved checkpoint ${paths[i]}` })),
  ];
  checkNoFork(expected);
  const pageSize = options.pageSize ?? MAX_ENTRIES_PER_PAGE;
  const auditor = new ServedLogAuditor(current.size, expected);
  let root: Buffer;
  try {
    await streamEntries(client, auditor, pageSize);
    root = auditor.finish();
  } catch (err) {
    throw err instanceof RootMismatchError ? await narrowDown(client, err, expected[0], pageSize) : err;
  }
  if (options.save !== undefined) await saveCheckpoint(options.save, current);
  return {
    summary:
      `log ${origin}: all ${current.size} entries match the signed checkpoint` +
      (saved.length > 0 ? ` and ${saved.length} earlier checkpoint(s)` : ''),
    details: {
      origin,
      treeSize: current.size,
      root: root.toString('base64'),
      earlierCheckpoints: saved.length,
    },
    warnings,
  };
}

function checkNoFork(expected: readonly ExpectedRoot[]): void {
  const bySize = new Map<number, ExpectedRoot>();
  for (const e of expected) {
    const other = bySize.get(e.size);
    if (other && !other.root.equals(e.root)) {
      throw new VerifierError(
        'VERIFIER.LOG_FORKED',
        `${other.label} and ${e.label} are both signed for size ${e.size} with different roots: ` +
          `the log has shown two different histories`,
      );
    }
    bySize.set(e.size, e);
  }
}

/**
 * The mismatch, pinned to a leaf if the log's consistency proofs allow; as it was if they do not. The proofs come
 * from the log's current tree, so they locate a rewritten row only if that tree is the one signed before: a saved
 * checkpoint the current one does not extend means the log re-signed another history, and says so.
 */
async function narrowDown(
  client: LedgerHttpClient,
  mismatch: RootMismatchError,
  current: ExpectedRoot,
  pageSize: number,
): Promise<VerifierError> {
  const { expected, verifiedUpTo } = mismatch;
  if (expected.size === 0) return mismatch;
  try {
    const inconsistent = await whyInconsistent(client, expected, current);
    if (inconsistent !== undefined) {
      return new VerifierError(
        'VERIFIER.CONSISTENCY_INVALID',
        `${current.label} (size ${current.size}) cannot be proven to extend ${expected.label} ` +
          `(size ${expected.size}): ${inconsistent}; the log rewrote its history and signed it again, ` +
          `or serves forged proofs`,
      );
    }
    const leafIndex = await locateRewrite(client, current, verifiedUpTo, pageSize);
    return new VerifierError(
      'VERIFIER.ROOT_MISMATCH',
      `leaf ${leafIndex}: not the leaf ${current.label} (size ${current.size}) holds; the leaves before it are ` +
        `proven by the log's consistency proofs, so this leaf was rewritten together with its stored hash ` +
        `(or the log serves forged proofs)`,
      { leafIndex },
    );
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return new VerifierError('VERIFIER.ROOT_MISMATCH', `${mismatch.message} (could not narrow it down: ${reason})`);
  }
}

async function streamEntries(client: LedgerHttpClient, auditor: ServedLogAuditor, pageSize: number): Promise<void> {
  const fetchPage = (start: number) => {
    const page = client
      .entries(start, Math.min(start + pageSize, auditor.treeSize))
      .then((entries) => ({ start, entries }));
    // Handled when awaited; this keeps a fetch that fails while the previous page fails too from going unhandled.
    page.catch(() => undefined);
    return page;
  };
  let next: Promise<{ start: number; entries: WireEntry[] }> | undefined = auditor.done ? undefined : fetchPage(0);
  while (next !== undefined) {
    const { start, entries } = await next;
    if (entries.length === 0) {
      throw new VerifierError(
        'VERIFIER.RESPONSE_INVALID',
        `leaf ${start}: the log served no entries from ${start}, though its checkpoint has ${auditor.treeSize}`,
        { leafIndex: start },
      );
    }
    const after = start + entries.length;
    next = after < auditor.treeSize ? fetchPage(after) : undefined;
    auditor.add(entries);
  }
}
