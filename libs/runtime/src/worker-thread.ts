import { dirname, extname, join } from 'node:path';
import { Worker, WorkerOptions } from 'node:worker_threads';

/**
 * Starts the worker thread whose entry is the module `name` beside the calling module (`callerFile`: its
 * __filename): the compiled `.js` in dist, the TypeScript source under tsx or ts-jest. TypeScript runs through tsx's
 * require hook; tsx's ESM loader, which a tsx process passes on in execArgv, does not load a worker's `.ts` entry,
 * so the worker gets only the hook.
 */
export function startWorkerThread(callerFile: string, name: string, options: WorkerOptions = {}): Worker {
  const ext = extname(callerFile);
  return new Worker(join(dirname(callerFile), `${name}${ext}`), {
    ...options,
    ...(ext === '.ts' ? { execArgv: ['--require', 'tsx/cjs'] } : {}),
  });
}
