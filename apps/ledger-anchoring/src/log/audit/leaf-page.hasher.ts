import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ClientConfig, Pool } from 'pg';
import { CopiedLeaf } from '../../persistence/leaf-copy.reader';
import type { LeafHashingJob, LeafHashingMessage } from './leaf-hashing.worker';

/** A page of the log as the worker hashed it: the leaf hashes from `from` on, and the entry it stopped at, if any. */
export interface HashedLeafPage {
  from: number;
  hashes: Uint8Array;
  /** The first entry out of order or with a stored hash that is not its leaf's; nothing follows it. */
  stop?: CopiedLeaf;
}

/**
 * The main thread's side of leaf-hashing.worker.ts: starts the worker on [from, to) and hands out its pages in index
 * order. The worker stays at most `ahead` pages in front of the caller, so memory is bounded on any log size.
 */
export class LeafPageHasher {
  private readonly worker: Worker;
  private readonly pages: HashedLeafPage[] = [];
  private finished = false;
  private failure?: Error;
  private waiting?: () => void;

  constructor(pool: Pool, range: { from: number; to: number; page: number; ahead: number }) {
    const job: LeafHashingJob = { connection: connectionOf(pool), ...range };
    this.worker = new Worker(join(__dirname, `leaf-hashing.worker${extname(__filename)}`), {
      workerData: job,
      // Under tsx or ts-jest this module is TypeScript; the worker then runs its .ts source through tsx's require
      // hook (tsx's ESM loader, which a tsx process passes on in execArgv, does not load a worker's .ts entry).
      ...(extname(__filename) === '.ts' ? { execArgv: ['--require', 'tsx/cjs'] } : {}),
    });
    this.worker.on('message', (message: LeafHashingMessage) => {
      if (message.type === 'page') this.pages.push(message);
      else if (message.type === 'done') this.finished = true;
      else this.failure = new Error(`audit worker: ${message.message}`);
      this.wake();
    });
    this.worker.on('error', (error) => {
      this.failure = error;
      this.wake();
    });
    this.worker.on('exit', (code) => {
      if (!this.finished && !this.failure) this.failure = new Error(`audit worker exited with code ${code}`);
      this.wake();
    });
  }

  /** The next page, or undefined after the last one (or after the page with a stop entry). */
  async next(): Promise<HashedLeafPage | undefined> {
    for (;;) {
      const page = this.pages.shift();
      if (page) {
        this.worker.postMessage('taken');
        return page;
      }
      if (this.failure) throw this.failure;
      if (this.finished) return undefined;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private wake(): void {
    const resolve = this.waiting;
    this.waiting = undefined;
    resolve?.();
  }
}

/** The pool's connection settings, as plain data a worker can receive (pg keeps them on the pool). */
function connectionOf(pool: Pool): ClientConfig {
  const o = (pool as unknown as { options: ClientConfig }).options;
  const picked: ClientConfig = {
    connectionString: o.connectionString,
    host: o.host,
    port: o.port,
    user: o.user,
    database: o.database,
    password: o.password,
    ssl: o.ssl,
    application_name: 'claimchain-ledger-audit',
  };
  try {
    return structuredClone(picked);
  } catch {
    throw new Error('the ledger audit needs connection settings that are plain data (no password function)');
  }
}
