/**
 * Worker thread of the audit (see LeafHashingThreads): for each job, streams the leaves of [from, to) from Postgres
 * on a connection of its own (binary COPY), rehashes every leaf, checks it against its stored leaf hash, and posts
 * the leaf hashes to the main thread in pages, where the tree is built from them. Reading and hashing the leaves is
 * most of an audit's work; here it runs on the second core, beside Postgres, while the main thread checks the tree.
 *
 * A job stops at the first entry that is not the next index or whose stored hash is not its leaf's, and hands that
 * entry over as it is: the main thread feeds it to LogAuditor.add, which names it exactly as a one-thread audit does.
 */
import { parentPort } from 'node:worker_threads';
import { Client, ClientConfig } from 'pg';
import { HASH_SIZE, hashLeaf } from '@claimchain/ledger';
import { CopiedLeaf, copyLeaves } from '../../persistence/leaf-copy.reader';

export interface LeafHashingJob {
  connection: ClientConfig;
  from: number;
  to: number;
  /** Leaves per posted page: the main thread reads the stored nodes in pages of the same bounds. */
  page: number;
  /** Pages posted and not yet taken by the main thread, at most. */
  ahead: number;
}

/** Main thread → worker: a job (one at a time), or "a page was taken" (the worker may post one more). */
export type LeafHashingRequest = { type: 'job'; job: LeafHashingJob } | { type: 'taken' };

/** Worker → main thread, for the current job. */
export type LeafHashingMessage =
  | { type: 'page'; from: number; hashes: Uint8Array; stop?: CopiedLeaf }
  | { type: 'done' }
  | { type: 'failed'; message: string };

type Port = NonNullable<typeof parentPort>;

let credits = 0;
let wakeOnCredit: (() => void) | undefined;

async function run(job: LeafHashingJob, port: Port): Promise<void> {
  credits = job.ahead;
  const post = async (message: LeafHashingMessage & { type: 'page' }) => {
    while (credits === 0) await new Promise<void>((resolve) => (wakeOnCredit = resolve));
    credits -= 1;
    port.postMessage(message, [message.hashes.buffer as ArrayBuffer]);
  };
  const client = new Client(job.connection);
  await client.connect();
  try {
    // Pages are [from + k·page, from + (k+1)·page) whatever the leaves: a missing leaf leaves its page short.
    let pageFrom = job.from;
    let hashes = new Uint8Array(Math.min(job.page, job.to - job.from) * HASH_SIZE);
    let count = 0;
    let expected = job.from;
    for await (const batch of copyLeaves(client, job.from, job.to)) {
      for (const entry of batch) {
        while (entry.index >= pageFrom + job.page) {
          await post({ type: 'page', from: pageFrom, hashes: hashes.subarray(0, count * HASH_SIZE) });
          pageFrom += job.page;
          hashes = new Uint8Array(Math.min(job.page, job.to - pageFrom) * HASH_SIZE);
          count = 0;
        }
        const computed = hashLeaf(entry.leaf);
        if (entry.index !== expected || !computed.equals(entry.leafHash)) {
          await post({ type: 'page', from: pageFrom, hashes: hashes.subarray(0, count * HASH_SIZE), stop: entry });
          return;
        }
        hashes.set(computed, count * HASH_SIZE);
        count += 1;
        expected += 1;
      }
    }
    for (; pageFrom < job.to; pageFrom += job.page) {
      await post({ type: 'page', from: pageFrom, hashes: hashes.subarray(0, count * HASH_SIZE) });
      hashes = new Uint8Array(0);
      count = 0;
    }
  } finally {
    await client.end();
  }
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (request: LeafHashingRequest) => {
    if (request.type === 'taken') {
      credits += 1;
      wakeOnCredit?.();
      return;
    }
    run(request.job, port).then(
      () => port.postMessage({ type: 'done' } satisfies LeafHashingMessage),
      (error: unknown) => port.postMessage({ type: 'failed', message: String(error) } satisfies LeafHashingMessage),
    );
  });
}
