/**
 * A PerfectSubtreeReader over a Map, filled by `appendLeaves` exactly as the ledger service fills Postgres. It records
 * every batched read so specs can assert a proof costs one round trip, and refuses to overwrite a node, because
 * perfect subtrees are immutable and an appender that rewrote one would be broken.
 */
import { appendLeaves, AppendResult, NodeRef, PerfectSubtreeReader } from '../src';

export class InMemorySubtreeStore implements PerfectSubtreeReader {
  readonly batches: NodeRef[][] = [];
  private readonly nodes = new Map<string, Buffer>();
  private frontier: Buffer[] = [];
  private treeSize = 0;

  get size(): number {
    return this.treeSize;
  }

  append(leafHashes: readonly Buffer[]): AppendResult {
    const result = appendLeaves(this.frontier, this.treeSize, leafHashes);
    for (const { level, index, hash } of result.newNodes) {
      const key = `${level}/${index}`;
      if (this.nodes.has(key)) throw new Error(`node ${key} written twice`);
      this.nodes.set(key, hash);
    }
    this.frontier = result.frontier;
    this.treeSize = result.size;
    return result;
  }

  node(level: number, index: number): Buffer {
    const hash = this.nodes.get(`${level}/${index}`);
    if (!hash) throw new Error(`node ${level}/${index} is missing`);
    return hash;
  }

  /** Every stored node, keyed `level/index`. */
  allNodes(): ReadonlyMap<string, Buffer> {
    return this.nodes;
  }

  async get(level: number, index: number): Promise<Buffer> {
    return this.node(level, index);
  }

  async getMany(refs: readonly NodeRef[]): Promise<Buffer[]> {
    this.batches.push([...refs]);
    return refs.map((r) => this.node(r.level, r.index));
  }
}
