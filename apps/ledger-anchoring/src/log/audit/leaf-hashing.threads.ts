import { Worker } from 'node:worker_threads';
import { ClientConfig, Pool } from 'pg';
import { startWorkerThread } from '@claimchain/runtime';
import { CopiedLeaf } from '../../persistence/leaf-copy.reader';
import type { LeafHashingMessage, LeafHashingRequest } from './leaf-hashing.worker';

/** A page of the log as the worker hashed it: the leaf hashes from `from` on, and the entry it stopped at, if any. */
export interface HashedLeafPage {
  from: number;
  hashes: Uint8Array;
  /** The first entry out of order or with a stored hash that is not its leaf's; nothing follows it. */
  stop?: CopiedLeaf;
}

/** How long an idle worker thread is kept for the next audit. */
const IDLE_MS = 60_000;

/**
 * The main thread's side of leaf-hashing.worker.ts. `hash` runs a job on a worker thread and yields its pages in
 * index order; the worker stays at most `ahead` pages in front of the caller, so memory is bounded on any log size.
 * Starting a thread and loading pg in it takes ~100 ms, so an idle thread is kept a minute for the next audit; idle
 * threads never keep the process alive. One thread per concurrent audit.
 */
export class LeafHashingThreads {
  private readonly idle: { worker: Worker; timer: NodeJS.Timeout }[] = [];

  async *hash(pool: Pool, range: { from: number; to: number; page: number; ahead: number }) {
    const worker = this.take();
    const pages: HashedLeafPage[] = [];
    let finished = false;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const onMessage = (message: LeafHashingMessage) => {
      if (message.type === 'page') pages.push(message);
      else if (message.type === 'done') finished = true;
      else failure = new Error(`audit worker: ${message.message}`);
      wake?.();
    };
    const onError = (error: Error) => {
      failure = error;
      wake?.();
    };
    const onExit = (code: number) => {
      failure ??= new Error(`audit worker exited with code ${code}`);
      wake?.();
    };
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    worker.postMessage({ type: 'job', job: { connection: connectionOf(pool), ...range } } satisfies LeafHashingRequest);
    try {
      for (;;) {
        const page = pages.shift();
        if (page) {
          worker.postMessage({ type: 'taken' } satisfies LeafHashingRequest);
          yield page;
        } else if (failure) throw failure;
        else if (finished) return;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      // A job left early (a finding, an error) may still be streaming: that thread is not reused.
      if (finished && !failure) this.release(worker);
      else void worker.terminate();
    }
  }

  /** Stops the idle threads (on shutdown; they would not keep the process alive anyway). */
  async close(): Promise<void> {
    const idle = this.idle.splice(0);
    await Promise.all(idle.map(({ worker, timer }) => (clearTimeout(timer), worker.terminate())));
  }

  private take(): Worker {
    const kept = this.idle.pop();
    if (kept) {
      clearTimeout(kept.timer);
      kept.worker.ref();
      return kept.worker;
    }
    return startWorkerThread(__filename, 'leaf-hashing.worker');
  }

  private release(worker: Worker): void {
    worker.unref();
    const entry = {
      worker,
      timer: setTimeout(() => {
        this.idle.splice(this.idle.indexOf(entry), 1);
        void worker.terminate();
      }, IDLE_MS).unref(),
    };
    this.idle.push(entry);
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
