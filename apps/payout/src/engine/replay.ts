import { createHash } from 'node:crypto';
import { canonicalize } from 'json-canonicalize';
import { ClaimAdjudicatedV1, ClaimSubmittedV1, ContractPublishedV1 } from '@claimchain/wire';
import { ContractDefinition, contractIdOf } from './contract.definition';
import {
  ADJUDICATION_ALGORITHM,
  Adjudication,
  adjudicate,
  AdjudicationAlgorithm,
  ClaimToAdjudicate,
  deniedUnrun,
  POLICYLESS_ADJUDICATION_ALGORITHM,
} from './adjudicate';

const ALGORITHMS: readonly string[] = [ADJUDICATION_ALGORITHM, POLICYLESS_ADJUDICATION_ALGORITHM];

/** SHA-256 (hex) of the RFC 8785 JSON of a result: what claims.adjudicated.v1 records as `replay.resultHash`. */
export function resultHashOf(result: Adjudication): string {
  return createHash('sha256').update(canonicalize(result), 'utf8').digest('hex');
}

export class ReplayInputError extends Error {}

/** How a replay runs the contract: `adjudicate` itself, or the same function on payout's worker pool (ADR 17). */
export type AdjudicateFn = (...args: Parameters<typeof adjudicate>) => Promise<Adjudication>;

/**
 * Re-adjudicates a claim from the three events the ledger recorded (the claim, the contract, the decision) and
 * says whether the result hashes to what was recorded. Pure: an auditor can run it offline on receipt data.
 */
export async function replayAdjudication(
  contract: ContractPublishedV1,
  claim: ClaimSubmittedV1,
  adjudicated: ClaimAdjudicatedV1,
  run: AdjudicateFn = adjudicate,
): Promise<{ result: Adjudication; resultHash: string; matches: boolean }> {
  const definition = contract.definition as unknown as ContractDefinition;
  if (contract.contractId !== adjudicated.contractId || contractIdOf(definition) !== contract.contractId) {
    throw new ReplayInputError(`the contract is not the one ${adjudicated.claimId} was adjudicated by`);
  }
  if (claim.claimId !== adjudicated.claimId) throw new ReplayInputError('the claim and the decision differ');
  if (!adjudicated.replay)
    throw new ReplayInputError(`the decision on ${adjudicated.claimId} records no replay inputs`);
  const { algorithm, policy, accumulatorsBefore, resultHash } = adjudicated.replay;
  if (!ALGORITHMS.includes(algorithm)) throw new ReplayInputError(`unknown adjudication algorithm ${algorithm}`);
  const input: ClaimToAdjudicate = {
    providerId: claim.providerId,
    currency: claim.currency,
    patientPseudonym: claim.patientPseudonym,
    items: claim.items,
    ...(adjudicated.replay.unverified ? { unverified: adjudicated.replay.unverified } : {}),
    ...(adjudicated.replay.unattested ? { unattested: true } : {}),
  };
  const coverage = policy
    ? { policy: { ...policy, contractId: contract.contractId }, accumulators: accumulatorsBefore }
    : null;
  const review = adjudicated.review?.outcome ?? null;
  const { unrun } = adjudicated.replay;
  if (unrun && review?.decision !== 'deny') {
    throw new ReplayInputError(
      `the decision on ${adjudicated.claimId} names why its contract did not run, but no denial`,
    );
  }
  // A reviewer's denial of a claim whose contract did not run was made without running it, and replays so.
  const result =
    unrun && review?.decision === 'deny'
      ? deniedUnrun(input, coverage, unrun, review.code, algorithm as AdjudicationAlgorithm)
      : await run(definition, input, coverage, review, algorithm as AdjudicationAlgorithm);
  const actual = resultHashOf(result);
  return { result, resultHash: actual, matches: actual === resultHash };
}
