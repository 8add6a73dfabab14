import { NodeRef, PerfectSubtreeReader } from '@claimchain/ledger';

/** Nodes this high (each covering ≥ 256 leaves) are kept once read: there are few, and every proof needs some. */
const CACHED_FROM_LEVEL = 8;
const CACHE_MAX_NODES = 100_000; // ~10 MB; past that (logs beyond ~25 M entries) the rest is simply read each time

/**
 * Merges the node reads of every proof requested in the same turn of the event loop into one query (the DataLoader
 * pattern), and keeps the upper nodes once read. Under load a proof then costs a share of one round trip instead of
 * a whole one, for its lower nodes only. Perfect-subtree nodes are immutable, so neither can serve a stale hash.
 */
export class CoalescingSubtreeReader implements PerfectSubtreeReader {
  private pending: { refs: readonly NodeRef[]; resolve: (hashes: Buffer[]) => void; reject: (e: unknown) => void }[] =
    [];

  private readonly upper = new Map<string, Buffer>();

  constructor(private readonly store: PerfectSubtreeReader) {}

  async get(level: number, index: number): Promise<Buffer> {
    return (await this.getMany([{ level, index }]))[0];
  }

  getMany(refs: readonly NodeRef[]): Promise<Buffer[]> {
    if (refs.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => void this.flush());
      this.pending.push({ refs, resolve, reject });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    const known = new Map<string, Buffer>();
    const missing = new Map<string, NodeRef>();
    for (const { refs } of batch) {
      for (const r of refs) {
        const key = `${r.level}/${r.index}`;
        const cached = r.level >= CACHED_FROM_LEVEL ? this.upper.get(key) : undefined;
        if (cached) known.set(key, cached);
        else missing.set(key, r);
      }
    }
    try {
      const refs = [...missing.values()];
      const hashes = refs.length > 0 ? await this.store.getMany(refs) : [];
      refs.forEach((r, i) => {
        const key = `${r.level}/${r.index}`;
        known.set(key, hashes[i]);
        if (r.level >= CACHED_FROM_LEVEL && this.upper.size < CACHE_MAX_NODES) this.upper.set(key, hashes[i]);
      });
      for (const { refs, resolve } of batch) resolve(refs.map((r) => known.get(`${r.level}/${r.index}`)!));
    } catch {
      // One request's missing node must not fail the others: retry each on its own.
      for (const { refs, resolve, reject } of batch) this.store.getMany(refs).then(resolve, reject);
    }
  }
}
