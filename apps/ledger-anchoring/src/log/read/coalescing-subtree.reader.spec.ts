import { NodeRef, PerfectSubtreeReader } from '@claimchain/ledger';
import { CoalescingSubtreeReader } from './coalescing-subtree.reader';

const hashOf = (r: NodeRef) => Buffer.alloc(32, r.level * 16 + r.index);

/** Counts round trips; refuses any node in `missing`, as Postgres' reader does. */
class CountingStore implements PerfectSubtreeReader {
  readonly calls: NodeRef[][] = [];
  constructor(private readonly missing = new Set<string>()) {}
  async get(level: number, index: number): Promise<Buffer> {
    return (await this.getMany([{ level, index }]))[0];
  }
  async getMany(refs: readonly NodeRef[]): Promise<Buffer[]> {
    this.calls.push([...refs]);
    return refs.map((r) => {
      if (this.missing.has(`${r.level}/${r.index}`)) throw new Error(`node ${r.level}/${r.index} is missing`);
      return hashOf(r);
    });
  }
}

describe(CoalescingSubtreeReader.name, () => {
  it('answers concurrent reads with one store read of the distinct nodes', async () => {
    const store = new CountingStore();
    const reader = new CoalescingSubtreeReader(store);
    const a = [
      { level: 0, index: 3 },
      { level: 3, index: 0 },
    ];
    const b = [
      { level: 3, index: 0 },
      { level: 1, index: 5 },
    ];
    const [ha, hb] = await Promise.all([reader.getMany(a), reader.getMany(b)]);
    expect(ha).toEqual(a.map(hashOf));
    expect(hb).toEqual(b.map(hashOf));
    expect(store.calls).toHaveLength(1);
    expect(store.calls[0]).toHaveLength(3);
  });

  it('reads again for requests made after a flush', async () => {
    const store = new CountingStore();
    const reader = new CoalescingSubtreeReader(store);
    await reader.get(0, 1);
    await reader.get(0, 1);
    expect(store.calls).toHaveLength(2);
  });

  it('fails only the request whose node is missing, not the others merged with it', async () => {
    const reader = new CoalescingSubtreeReader(new CountingStore(new Set(['2/9'])));
    const [good, bad] = await Promise.allSettled([reader.get(0, 1), reader.get(2, 9)]);
    expect(good).toEqual({ status: 'fulfilled', value: hashOf({ level: 0, index: 1 }) });
    expect(bad).toMatchObject({ status: 'rejected', reason: { message: 'node 2/9 is missing' } });
  });

  it('answers an empty read without touching the store', async () => {
    const store = new CountingStore();
    expect(await new CoalescingSubtreeReader(store).getMany([])).toEqual([]);
    expect(store.calls).toHaveLength(0);
  });

  it('keeps upper nodes once read and reads only the lower ones again', async () => {
    const store = new CountingStore();
    const reader = new CoalescingSubtreeReader(store);
    const refs = [
      { level: 0, index: 300 },
      { level: 8, index: 1 },
      { level: 12, index: 0 },
    ];
    expect(await reader.getMany(refs)).toEqual(refs.map(hashOf));
    expect(await reader.getMany(refs)).toEqual(refs.map(hashOf));
    expect(store.calls).toEqual([refs, [{ level: 0, index: 300 }]]);
    expect(await reader.get(12, 0)).toEqual(hashOf({ level: 12, index: 0 }));
    expect(store.calls).toHaveLength(2);
  });
});
