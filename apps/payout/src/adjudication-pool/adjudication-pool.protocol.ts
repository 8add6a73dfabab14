import type {
  Adjudication,
  AdjudicationAlgorithm,
  ClaimToAdjudicate,
  PolicyContext,
  ReviewOutcome,
} from '../engine/adjudicate';
import type { ContractDefinition } from '../engine/contract.definition';

/** One claim to run through one contract, exactly the arguments of `adjudicate`. */
export interface AdjudicationJob {
  contractId: string;
  claim: ClaimToAdjudicate;
  coverage: PolicyContext | null;
  review: ReviewOutcome | null;
  algorithm: AdjudicationAlgorithm;
  /**
   * Jobs with the same chain (a policy id) run in order on one thread, each from the accumulators the one before it
   * left (unless that one pended): claims on one policy in one batch see each other's. Without it a job runs from
   * its own `coverage.accumulators`.
   */
  chain?: string;
}

/** Main thread → worker: a batch, with the definitions of its contracts the worker has not been sent yet. */
export interface RunBatchRequest {
  type: 'run';
  jobs: AdjudicationJob[];
  contracts: Record<string, ContractDefinition>;
  /** Forget every contract sent before (the main thread bounds what a worker keeps). */
  reset: boolean;
}

/** A job's result, or why it was refused: its contract's definition does not hash to its id. */
export type JobResult = { result: Adjudication } | { refused: string };

/** Worker → main thread: every job's result, in order, or why the batch failed (a bug, not a slow contract). */
export type RunBatchReply = { results: JobResult[] } | { failed: string };

/**
 * The worker's progress, in memory both threads share (no message per claim): the index of the job it is running,
 * -1 between batches. The main thread reads it to tell which claim is taking too long.
 */
export const PROGRESS_IDLE = -1;
