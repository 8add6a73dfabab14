import { Logger, OnApplicationShutdown } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { startWorkerThread } from '@claimchain/runtime';
import { TransientEventError } from '@claimchain/messaging';
import {
  Adjudication,
  PEND_CONTRACT_FAILED,
  PEND_CONTRACT_TIMEOUT,
  pendedUnrun,
  UnrunReason,
} from '../engine/adjudicate';
import type { ContractDefinition } from '../engine/contract.definition';
import {
  AdjudicationJob,
  JobResult,
  PROGRESS_IDLE,
  RunBatchReply,
  RunBatchRequest,
} from './adjudication-pool.protocol';
import type { AdjudicationWorkerData } from './adjudication.worker';

export interface AdjudicationPoolSettings {
  /** Worker threads. */
  workers: number;
  /** A claim whose contract runs longer than this is not decided (`contract-timeout`) and its thread replaced. */
  timeoutMs: number;
}

/** A job and the definition of its contract (sent to a worker once, then referred to by id). */
export type PoolJob = AdjudicationJob & { contract: ContractDefinition };

/**
 * A job's result; or why its contract was not run to the end (the caller pends the claim for review); or why it was
 * refused: the definition does not hash to the contract id (a tampered row: nothing may be paid by it).
 */
export type JobOutcome = JobResult | { unrun: UnrunReason };

/**
 * The decision an outcome stands for: its result, or the claim pended for the reason its contract did not run to
 * the end. A refused contract (it does not hash to its id) is `refuse`d: nothing may be decided by it.
 */
export function decisionOf(
  outcome: JobOutcome,
  job: AdjudicationJob,
  refuse: (why: string) => never = (why) => {
    throw new Error(why);
  },
): Adjudication {
  if ('result' in outcome) return outcome.result;
  if ('refused' in outcome) return refuse(outcome.refused);
  return pendedUnrun(job.claim, job.coverage, outcome.unrun, job.algorithm);
}

/** Contracts a worker keeps before it is told to forget them all. */
const MAX_CONTRACTS_PER_WORKER = 256;
/** A worker's heap: a contract within the limits needs a few MB; a runaway one dies here, not in the service. */
const WORKER_HEAP_MB = 256;

/** Shutting down with a batch in flight: transient, so a consumer retries it (on another replica, or after restart). */
export class AdjudicationPoolClosedError extends TransientEventError {}

/**
 * Runs contracts on worker threads so that a slow contract cannot block payout's event loop (HTTP, Kafka
 * heartbeats, payments) and pends only its own claims (ADR 17).
 *
 * `adjudicateMany` splits a batch into one group per worker (the jobs of one chain, a policy, stay together and in
 * order) and sends each group in one message. A worker records in shared memory which job it is running; when one
 * job runs longer than `timeoutMs`, or the worker dies on it, the worker is terminated and replaced, that job's
 * outcome is `unrun`, the later jobs of the same contract in the group are `unrun` too (the contract has shown it is
 * too slow, and must not hold the pool for each of them), and the rest of the group is sent again. Results are the
 * pure function's, whichever thread computed them.
 */
export class AdjudicationPool implements OnApplicationShutdown {
  private readonly logger = new Logger(AdjudicationPool.name);
  private readonly slots: WorkerSlot[];
  private readonly waiting: ((slot: WorkerSlot) => void)[] = [];
  private closed = false;

  constructor(readonly settings: AdjudicationPoolSettings) {
    this.slots = Array.from({ length: settings.workers }, () => new WorkerSlot(settings.timeoutMs, this.logger));
  }

  async adjudicateMany(jobs: readonly PoolJob[]): Promise<JobOutcome[]> {
    const outcomes: JobOutcome[] = new Array<JobOutcome>(jobs.length);
    await Promise.all(this.groups(jobs).map((group) => this.runGroup(jobs, group, outcomes)));
    return outcomes;
  }

  async adjudicate(job: PoolJob): Promise<JobOutcome> {
    return (await this.adjudicateMany([job]))[0];
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((slot) => slot.close()));
  }

  /** Job indexes per worker: round-robin by chain (a job without one is a chain of its own), order kept. */
  private groups(jobs: readonly PoolJob[]): number[][] {
    const groups: number[][] = Array.from({ length: Math.min(this.slots.length, jobs.length) }, () => []);
    const groupOfChain = new Map<string, number>();
    let next = 0;
    jobs.forEach((job, index) => {
      let group = job.chain !== undefined ? groupOfChain.get(job.chain) : undefined;
      if (group === undefined) {
        group = next++ % groups.length;
        if (job.chain !== undefined) groupOfChain.set(job.chain, group);
      }
      groups[group].push(index);
    });
    return groups.filter((g) => g.length > 0);
  }

  private async runGroup(jobs: readonly PoolJob[], group: number[], outcomes: JobOutcome[]): Promise<void> {
    let remaining = group;
    while (remaining.length > 0) {
      const slot = await this.acquire();
      let run: Awaited<ReturnType<WorkerSlot['run']>>;
      try {
        run = await slot.run(remaining.map((i) => jobs[i]));
      } finally {
        this.release(slot);
      }
      if ('results' in run) {
        run.results.forEach((result, k) => (outcomes[remaining[k]] = result));
        return;
      }
      const culprit = remaining[run.stoppedAt];
      const contractId = jobs[culprit].contractId;
      outcomes[culprit] = { unrun: run.reason };
      const later = remaining.slice(run.stoppedAt + 1);
      for (const i of later) if (jobs[i].contractId === contractId) outcomes[i] = { unrun: run.reason };
      remaining = [...remaining.slice(0, run.stoppedAt), ...later.filter((i) => jobs[i].contractId !== contractId)];
    }
  }

  private acquire(): Promise<WorkerSlot> {
    if (this.closed) return Promise.reject(new AdjudicationPoolClosedError('payout is shutting down'));
    const free = this.slots.find((s) => !s.busy);
    if (free) {
      free.busy = true;
      return Promise.resolve(free);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(slot: WorkerSlot): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else slot.busy = false;
  }
}

type SlotRun = { results: JobResult[] } | { stoppedAt: number; reason: UnrunReason };

/** One worker thread, started on first use and replaced after a timeout or a death. */
class WorkerSlot {
  busy = false;
  private worker?: Worker;
  private readonly progress = new Int32Array(new SharedArrayBuffer(4));
  private readonly sent = new Set<string>();
  private closing = false;

  constructor(
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  run(jobs: PoolJob[]): Promise<SlotRun> {
    const worker = (this.worker ??= this.start());
    const reset = this.sent.size > MAX_CONTRACTS_PER_WORKER;
    if (reset) this.sent.clear();
    const contracts: Record<string, ContractDefinition> = {};
    for (const job of jobs) {
      if (this.sent.has(job.contractId)) continue;
      contracts[job.contractId] = job.contract;
      this.sent.add(job.contractId);
    }
    Atomics.store(this.progress, 0, PROGRESS_IDLE);
    return new Promise<SlotRun>((resolve, reject) => {
      // Which job runs, and since when it was first seen running: polled, so a timeout fires between timeoutMs and
      // timeoutMs + tick after the job started.
      let running = PROGRESS_IDLE;
      let since = performance.now();
      const tick = Math.max(5, Math.floor(this.timeoutMs / 10));
      const stop = () => {
        clearInterval(timer);
        worker.off('message', onMessage).off('exit', onExit);
      };
      const timer = setInterval(() => {
        const now = Atomics.load(this.progress, 0);
        if (now !== running) {
          running = now;
          since = performance.now();
        } else if (running !== PROGRESS_IDLE && performance.now() - since >= this.timeoutMs) {
          stop();
          this.logger.warn(
            `a contract (${jobs[running].contractId}) ran over ${this.timeoutMs} ms on one claim: ` +
              'that claim is pended for review and its worker thread replaced',
          );
          this.replace(worker);
          resolve({ stoppedAt: running, reason: PEND_CONTRACT_TIMEOUT });
        }
      }, tick);
      const onMessage = (reply: RunBatchReply) => {
        stop();
        if ('failed' in reply) reject(new Error(`adjudication worker: ${reply.failed}`));
        else resolve({ results: reply.results });
      };
      const onExit = (code: number) => {
        stop();
        const at = Atomics.load(this.progress, 0);
        this.forget(worker);
        if (this.closing) reject(new AdjudicationPoolClosedError('payout is shutting down'));
        // Died on a job (out of memory on a contract): that claim is pended. Died before any: not a claim's fault.
        else if (at === PROGRESS_IDLE) reject(new Error(`the adjudication worker exited (code ${code}) before a job`));
        else {
          this.logger.warn(`the adjudication worker died (code ${code}) running contract ${jobs[at].contractId}`);
          resolve({ stoppedAt: at, reason: PEND_CONTRACT_FAILED });
        }
      };
      worker.on('message', onMessage).on('exit', onExit);
      worker.postMessage({ type: 'run', jobs: jobs.map(withoutContract), contracts, reset } satisfies RunBatchRequest);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    const worker = this.worker;
    this.forget(worker);
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = startWorkerThread(__filename, 'adjudication.worker', {
      workerData: { progress: this.progress.buffer as SharedArrayBuffer } satisfies AdjudicationWorkerData,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    // Never what keeps the process alive; an error also ends the worker, which `exit` reports to the run in flight.
    worker.unref();
    worker.on('error', (error) => this.logger.error(`adjudication worker failed: ${error.stack ?? String(error)}`));
    return worker;
  }

  private replace(worker: Worker): void {
    this.forget(worker);
    void worker.terminate();
  }

  private forget(worker: Worker | undefined): void {
    if (worker && this.worker === worker) {
      this.worker = undefined;
      this.sent.clear();
    }
  }
}

function withoutContract(job: PoolJob): AdjudicationJob {
  const { contract: _contract, ...rest } = job;
  return rest;
}
