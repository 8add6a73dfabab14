/**
 * A worker thread that runs contracts (see AdjudicationPool): the rules engine works in microtasks without yielding,
 * so a slow contract here blocks only this thread, which the main thread replaces when a claim takes too long.
 * Each batch arrives in one message and its results leave in one; the job being run is written to shared memory.
 * Contract definitions are sent once and kept here by id; each is checked to hash to its id before it decides.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Accumulators, adjudicate } from '../engine/adjudicate';
import { ContractDefinition, contractIdOf } from '../engine/contract.definition';
import { JobResult, PROGRESS_IDLE, RunBatchReply, RunBatchRequest } from './adjudication-pool.protocol';

export interface AdjudicationWorkerData {
  progress: SharedArrayBuffer;
}

const port = parentPort!;
const progress = new Int32Array((workerData as AdjudicationWorkerData).progress);
/** Contracts by id; `hashed` once the definition was checked to hash to its id (on its first claim, timed). */
const contracts = new Map<string, { definition: ContractDefinition; hashed: boolean }>();

async function run(request: RunBatchRequest): Promise<JobResult[]> {
  if (request.reset) contracts.clear();
  for (const [id, definition] of Object.entries(request.contracts)) contracts.set(id, { definition, hashed: false });
  const carried = new Map<string, Accumulators>();
  const results: JobResult[] = [];
  for (const [index, job] of request.jobs.entries()) {
    Atomics.store(progress, 0, index);
    const known = contracts.get(job.contractId);
    if (!known) throw new Error(`contract ${job.contractId} was never sent to this worker`);
    // Hashing a large contract is work too: done here, inside its first claim's timeout, not on the main thread.
    if (!known.hashed && contractIdOf(known.definition) !== job.contractId) {
      results.push({ refused: `contract ${job.contractId} does not hash to its id; refusing to pay by it` });
      continue;
    }
    known.hashed = true;
    const contract = known.definition;
    const chained = job.chain !== undefined ? carried.get(job.chain) : undefined;
    const coverage = job.coverage && chained ? { ...job.coverage, accumulators: chained } : job.coverage;
    const result = await adjudicate(contract, job.claim, coverage, job.review, job.algorithm);
    if (job.chain !== undefined && coverage) {
      carried.set(
        job.chain,
        result.decision === 'pended'
          ? coverage.accumulators
          : { ...coverage.accumulators, ...result.accumulators.after },
      );
    }
    results.push({ result });
  }
  return results;
}

// One batch at a time: the pool sends the next only after this one's reply.
port.on('message', (request: RunBatchRequest) => {
  run(request).then(
    (results) => {
      Atomics.store(progress, 0, PROGRESS_IDLE);
      port.postMessage({ results } satisfies RunBatchReply);
    },
    (error: unknown) => {
      Atomics.store(progress, 0, PROGRESS_IDLE);
      port.postMessage({ failed: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    },
  );
});
