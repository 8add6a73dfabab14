/**
 * A stand-in for the *remote* log an auditor checks: built in memory with @claimchain/ledger (the same code the
 * ledger service runs) and served over node:http with the ledger service's public read API. Specs tamper with its
 * rows (`leaves`, `leafHashes`, `servedCheckpoint`, …) the way an attacker with database access would.
 */
import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import {
  appendLeaves,
  CommittableEvent,
  consistencyProof,
  formatCheckpoint,
  generateNoteKey,
  hashLeaf,
  inclusionProof,
  leafCommitment,
  leafSaltOf,
  NodeRef,
  NoteKeyPair,
  parseSignerKey,
  PerfectSubtreeReader,
  rootHash,
  signNote,
} from '@claimchain/ledger';
import { ClaimReceiptV1, RECEIPT_FORMAT_V1 } from '../claim-receipt.schema';

export const TEST_ORIGIN = 'log.test/ledger';

export interface TestEvent extends CommittableEvent {
  readonly specversion: '1.0';
  readonly datacontenttype: 'application/json';
  readonly correlationid: string;
}

export function testEvent(claimId: string, type = 'claim.submitted', data: unknown = { amount: '120.00' }): TestEvent {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: '/claim-intake',
    type,
    subject: claimId,
    time: '2026-11-20T10:00:00.000Z',
    datacontenttype: 'application/json',
    tenantid: 'acme-health',
    correlationid: randomUUID(),
    data,
  };
}

export interface ServedLog {
  readonly url: string;
  close(): Promise<void>;
}

export class RemoteLogFixture {
  readonly events: TestEvent[] = [];
  /** The rows the log stores and serves; tamper with them freely. */
  readonly leaves: Buffer[] = [];
  /** Each leaf's salt (null: a v1, unsalted leaf), as the ledger keeps it beside the event. */
  readonly salts: (Buffer | null)[] = [];
  /** Set it to salt the leaves appended from then on (v2 leaves), as the ledger does with its salt key. */
  saltKey: Buffer | undefined;
  readonly leafHashes: Buffer[] = [];
  readonly eventIds: string[] = [];
  /** What GET /v1/ledger/checkpoint serves; `publish()` sets it. */
  servedCheckpoint: string | undefined;
  /** Rewrites each consistency proof before it is served (a forging log). */
  forgeConsistencyProof: (proof: Buffer[]) => Buffer[] = (proof) => proof;
  /** The most entries one request returns (the real log's cap is 1000). */
  maxPageSize = 1000;
  /** Answer every request with this status instead. */
  failWith: number | undefined;
  /** Accept requests and never answer them. */
  stall = false;
  /** Rewrites a JSON answer before it is sent (a log serving garbage with a 200). */
  tamperAnswer: (path: string, body: string) => string = (_path, body) => body;
  readonly requests: string[] = [];

  private readonly nodes = new Map<string, Buffer>();
  private frontier: Buffer[] = [];

  constructor(
    readonly keys: NoteKeyPair = generateNoteKey(TEST_ORIGIN),
    readonly origin = TEST_ORIGIN,
  ) {}

  get size(): number {
    return this.leaves.length;
  }

  append(...events: TestEvent[]): this {
    return this.appendAll(events);
  }

  appendAll(events: readonly TestEvent[]): this {
    const salts = events.map((e) => (this.saltKey ? leafSaltOf(this.saltKey, e.id) : null));
    const leaves = events.map((e, i) => leafCommitment(e, salts[i]));
    const result = appendLeaves(
      this.frontier,
      this.size,
      leaves.map((leaf) => hashLeaf(leaf)),
    );
    this.frontier = result.frontier;
    for (const node of result.newNodes) {
      this.nodes.set(`${node.level}/${node.index}`, node.hash);
      if (node.level === 0) this.leafHashes.push(node.hash);
    }
    // Loops, not push(...): a spread of a big batch overflows the call stack.
    for (const [i, event] of events.entries()) {
      this.events.push(event);
      this.eventIds.push(event.id);
      this.leaves.push(leaves[i]);
      this.salts.push(salts[i]);
    }
    return this;
  }

  /** Appends `count` events of `claimId` (or of fresh claims). */
  grow(count: number, claimId?: string): this {
    return this.appendAll(Array.from({ length: count }, () => testEvent(claimId ?? randomUUID())));
  }

  /** The root of the first `size` leaves, from the stored tree nodes (not from the possibly tampered leaves). */
  root(size = this.size): Promise<Buffer> {
    return rootHash(this.reader(), size);
  }

  async checkpoint(size = this.size, signerKey = this.keys.signerKey, origin = this.origin): Promise<string> {
    const root = await this.root(size);
    return signNote(formatCheckpoint({ origin, size, root }), parseSignerKey(signerKey));
  }

  /** Signs a checkpoint of the current size and serves it. */
  async publish(): Promise<string> {
    this.servedCheckpoint = await this.checkpoint();
    return this.servedCheckpoint;
  }

  async inclusionProof(index: number, size = this.size): Promise<Buffer[]> {
    return inclusionProof(this.reader(), index, size);
  }

  /** A receipt as claim-intake will write it, for the events of `claimId` in the tree of `size`. */
  async receipt(claimId: string, size = this.size): Promise<ClaimReceiptV1> {
    const checkpoint = await this.checkpoint(size);
    const entries = [];
    for (let i = 0; i < size; i++) {
      if (this.events[i].subject !== claimId) continue;
      const salt = this.salts[i];
      entries.push({
        event: this.events[i],
        leafIndex: i,
        treeSize: size,
        inclusionProof: (await this.inclusionProof(i, size)).map((h) => h.toString('base64')),
        checkpoint,
        ...(salt && { dataSalt: salt.toString('hex') }),
      });
    }
    // Through the schema: the fixture must write what the format allows.
    return ClaimReceiptV1.parse({ format: RECEIPT_FORMAT_V1, claimId, verifierKey: this.keys.verifierKey, entries });
  }

  async serve(): Promise<ServedLog> {
    const server = createServer((req, res) => {
      this.requests.push(req.url ?? '');
      this.route(req, res).catch((err: unknown) => send(res, 500, 'text/plain', String(err)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () =>
        new Promise<void>((resolve, reject) => {
          server.closeAllConnections();
          server.close((err) => (err ? reject(err) : resolve()));
        }),
    };
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://log');
    const q = (name: string) => Number(url.searchParams.get(name));
    if (this.stall) return;
    if (this.failWith !== undefined) return send(res, this.failWith, 'text/plain', 'log is down');
    switch (url.pathname) {
      case '/v1/ledger/checkpoint':
        if (this.servedCheckpoint === undefined) return send(res, 404, 'text/plain', 'no checkpoint yet');
        return send(res, 200, 'text/plain; charset=utf-8', this.servedCheckpoint);
      case '/v1/ledger/public-key':
        return send(res, 200, 'text/plain; charset=utf-8', this.keys.verifierKey + '\n');
      case '/v1/ledger/entries': {
        const start = q('start');
        const end = Math.min(q('end'), start + this.maxPageSize, this.size);
        const entries = [];
        for (let index = start; index < end; index++) {
          entries.push({
            index,
            eventId: this.eventIds[index],
            eventType: this.events[index].type,
            leaf: this.leaves[index].toString('base64'),
            leafHash: this.leafHashes[index].toString('base64'),
          });
        }
        return send(res, 200, 'application/json', this.tamperAnswer(url.pathname, JSON.stringify({ entries })));
      }
      case '/v1/ledger/proofs/consistency': {
        const [from, to] = [q('from'), q('to')];
        const proof = this.forgeConsistencyProof(await consistencyProof(this.reader(), from, to));
        const body = JSON.stringify({ from, to, hashes: proof.map((h) => h.toString('base64')) });
        return send(res, 200, 'application/json', this.tamperAnswer(url.pathname, body));
      }
      default:
        return send(res, 404, 'text/plain', 'not found');
    }
  }

  private reader(): PerfectSubtreeReader {
    const get = async (level: number, index: number): Promise<Buffer> => {
      const hash = this.nodes.get(`${level}/${index}`);
      if (!hash) throw new Error(`no node ${level}/${index}`);
      return hash;
    };
    return { get, getMany: (refs: readonly NodeRef[]) => Promise.all(refs.map((r) => get(r.level, r.index))) };
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType });
  res.end(body);
}
