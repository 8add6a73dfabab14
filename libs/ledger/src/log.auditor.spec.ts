import { auditLog, AuditEntry, LogAuditor } from './log.auditor';
import { rootHash } from './proof.reader';
import { hashLeaf } from './rfc9162.hasher';
import { InMemorySubtreeStore } from '../test/in-memory-subtree.store';

const leafOf = (i: number) => Buffer.from(`{"id":"event-${i}"}`);

/** A log of n entries with stored nodes and checkpoints at the given sizes, as the service would hold it. */
async function buildLog(n: number, checkpointSizes: number[]) {
  const store = new InMemorySubtreeStore();
  const entries: AuditEntry[] = [];
  for (let i = 0; i < n; i++) entries.push({ index: i, leaf: leafOf(i), leafHash: hashLeaf(leafOf(i)) });
  store.append(entries.map((e) => Buffer.from(e.leafHash!)));
  const checkpoints = await Promise.all(
    checkpointSizes.map(async (size) => ({ size, root: await rootHash(store, size) })),
  );
  const nodes = new Map(store.allNodes());
  const storedNode = (level: number, index: number) => nodes.get(`${level}/${index}`);
  return { entries, checkpoints, nodes, storedNode };
}

describe(LogAuditor.name, () => {
  it('passes an untouched log, verifying every checkpoint and every stored node', async () => {
    const { entries, checkpoints, storedNode } = await buildLog(100, [0, 1, 37, 64, 100]);
    const report = auditLog(entries, checkpoints, storedNode);
    expect(report).toEqual({ ok: true, size: 100, root: checkpoints[4].root, checkpointsVerified: 5 });
  });

  it('gives the same answer fed in batches as in one pass', async () => {
    const { entries, checkpoints, storedNode } = await buildLog(77, [10, 50, 77]);
    const auditor = new LogAuditor(checkpoints);
    for (let i = 0; i < entries.length; i += 9) auditor.add(entries.slice(i, i + 9), storedNode);
    expect(auditor.finish()).toEqual(auditLog(entries, checkpoints, storedNode));
  });

  it('names the index of a leaf whose bytes changed under its stored hash', async () => {
    const { entries, checkpoints } = await buildLog(50, [50]);
    entries[23] = { ...entries[23], leaf: Buffer.from('{"id":"forged"}') };
    expect(auditLog(entries, checkpoints).finding).toMatchObject({ code: 'AUDIT.LEAF_HASH_MISMATCH', index: 23 });
  });

  it('names the index of a leaf rewritten together with its hash, from the stored nodes', async () => {
    const { entries, checkpoints, storedNode } = await buildLog(50, [50]);
    const forged = Buffer.from('{"id":"forged"}');
    entries[23] = { index: 23, leaf: forged, leafHash: hashLeaf(forged) };
    expect(auditLog(entries, checkpoints, storedNode).finding).toMatchObject({
      code: 'AUDIT.NODE_MISMATCH',
      index: 23,
      node: { level: 0, index: 23 },
    });
  });

  it('bounds a consistent rewrite by the checkpoints when no nodes are given', async () => {
    const { entries, checkpoints } = await buildLog(50, [10, 20, 30, 50]);
    const forged = Buffer.from('{"id":"forged"}');
    entries[23] = { index: 23, leaf: forged, leafHash: hashLeaf(forged) };
    const report = auditLog(entries, checkpoints);
    expect(report.ok).toBe(false);
    expect(report.checkpointsVerified).toBe(2);
    expect(report.finding).toMatchObject({ code: 'AUDIT.ROOT_MISMATCH', index: 20, checkpointSize: 30 });
  });

  it('names the first leaf under a stored interior node that was changed', async () => {
    const { entries, checkpoints, nodes, storedNode } = await buildLog(64, [64]);
    nodes.set('2/5', Buffer.alloc(32, 7));
    expect(auditLog(entries, checkpoints, storedNode).finding).toMatchObject({
      code: 'AUDIT.NODE_MISMATCH',
      index: 20,
      node: { level: 2, index: 5 },
    });
  });

  it('reports a stored node that is missing', async () => {
    const { entries, checkpoints, nodes, storedNode } = await buildLog(16, [16]);
    nodes.delete('1/3');
    expect(auditLog(entries, checkpoints, storedNode).finding).toMatchObject({ code: 'AUDIT.NODE_MISSING', index: 6 });
  });

  it('reports a deleted entry as a gap at its index', async () => {
    const { entries, checkpoints } = await buildLog(20, [20]);
    entries.splice(12, 1);
    expect(auditLog(entries, checkpoints).finding).toMatchObject({ code: 'AUDIT.INDEX_GAP', index: 12 });
  });

  it('reports a log shorter than a checkpoint', async () => {
    const { entries, checkpoints } = await buildLog(20, [20]);
    expect(auditLog(entries.slice(0, 15), checkpoints).finding).toMatchObject({
      code: 'AUDIT.LOG_TOO_SHORT',
      index: 15,
      checkpointSize: 20,
    });
  });

  it('accepts checkpoints in any order', async () => {
    const { entries, checkpoints } = await buildLog(30, [5, 30, 17]);
    expect(auditLog(entries, [...checkpoints].reverse()).checkpointsVerified).toBe(3);
  });

  it('rejects a checkpoint of the empty tree whose root is not the empty root', () => {
    expect(auditLog([], [{ size: 0, root: Buffer.alloc(32) }]).finding).toMatchObject({
      code: 'AUDIT.ROOT_MISMATCH',
      index: 0,
    });
  });

  it('ignores entries after the first finding', async () => {
    const { entries, checkpoints } = await buildLog(20, [20]);
    entries[3] = { ...entries[3], leaf: Buffer.from('x') };
    const auditor = new LogAuditor(checkpoints);
    auditor.add(entries.slice(0, 10));
    auditor.add(entries.slice(10));
    expect(auditor.finish()).toMatchObject({ ok: false, size: 3, finding: { index: 3 } });
  });

  describe('fed leaf hashes computed elsewhere (addLeafHashes)', () => {
    const hashesOf = (entries: AuditEntry[]) => Buffer.concat(entries.map((e) => hashLeaf(e.leaf)));
    const auditHashes = (
      entries: AuditEntry[],
      checkpoints: { size: number; root: Buffer }[],
      storedNode?: (level: number, index: number) => Buffer | undefined,
      batch = 7,
    ) => {
      const auditor = new LogAuditor(checkpoints);
      for (let i = 0; i < entries.length; i += batch) {
        auditor.addLeafHashes(entries[i].index, hashesOf(entries.slice(i, i + batch)), storedNode);
      }
      return auditor.finish();
    };

    it('gives the same report as add on an untouched log', async () => {
      const { entries, checkpoints, storedNode } = await buildLog(100, [1, 37, 64, 100]);
      expect(auditHashes(entries, checkpoints, storedNode)).toEqual(auditLog(entries, checkpoints, storedNode));
      expect(auditHashes(entries, checkpoints, storedNode).ok).toBe(true);
    });

    it('names a stored interior node that differs, as add does', async () => {
      const { entries, checkpoints, nodes, storedNode } = await buildLog(64, [64]);
      nodes.set('3/2', Buffer.alloc(32, 9));
      const report = auditHashes(entries, checkpoints, storedNode);
      expect(report.finding).toMatchObject({ code: 'AUDIT.NODE_MISMATCH', index: 16, node: { level: 3, index: 2 } });
      expect(report).toEqual(auditLog(entries, checkpoints, storedNode));
    });

    it('bounds a consistent rewrite by the checkpoint roots, as add does', async () => {
      const { entries, checkpoints } = await buildLog(50, [10, 20, 30, 50]);
      const forged = Buffer.from('{"id":"forged"}');
      entries[23] = { index: 23, leaf: forged, leafHash: hashLeaf(forged) };
      expect(auditHashes(entries, checkpoints).finding).toMatchObject({
        code: 'AUDIT.ROOT_MISMATCH',
        index: 20,
        checkpointSize: 30,
      });
    });

    it('reports hashes that do not start at the next index as a gap', async () => {
      const { entries, checkpoints } = await buildLog(20, [20]);
      const auditor = new LogAuditor(checkpoints);
      auditor.addLeafHashes(0, hashesOf(entries.slice(0, 12)));
      expect(auditor.addLeafHashes(13, hashesOf(entries.slice(13)))).toMatchObject({
        code: 'AUDIT.INDEX_GAP',
        index: 12,
      });
    });

    it('refuses bytes that are not whole hashes', () => {
      expect(() => new LogAuditor([]).addLeafHashes(0, Buffer.alloc(33))).toThrow(/not whole leaf hashes/);
    });
  });
});
