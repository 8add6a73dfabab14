/**
 * Benchmark of adjudication in isolation (`npm run bench:adjudication`): the pure contract function on a two-line
 * claim with the demo contract (json-rules-engine rules, coinsurance, an excluded code), no database. Prints
 * adjudications/s and per-call latency percentiles on this thread (one core), then the same claims through payout's
 * worker pool (ADR 17) in batches of BENCH_BATCH (default 100) as the consumer sends them, on ADJUDICATION_WORKERS
 * threads (default: payout's). Bounded: BENCH_SECONDS (default 5) per part.
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { claimItem } from '@claimchain/testing';
import {
  adjudicate,
  AdjudicationPool,
  ClaimToAdjudicate,
  contractIdOf,
  DEMO_CONTRACT,
  POLICYLESS_ADJUDICATION_ALGORITHM,
} from '../apps/payout/src';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const WORKERS = Number(process.env.ADJUDICATION_WORKERS ?? Math.max(1, Math.min(4, availableParallelism() - 1)));

const claim: ClaimToAdjudicate = {
  providerId: 'clinic-1',
  currency: 'EUR',
  patientPseudonym: 'a'.repeat(64),
  items: [claimItem(1, '99213', '120.00'), claimItem(2, '15780', '30.50')],
};

const pct = (samples: number[], p: number) =>
  samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))].toFixed(3);

async function direct(): Promise<void> {
  for (let i = 0; i < 2_000; i += 1)
    await adjudicate(DEMO_CONTRACT, claim, null, null, POLICYLESS_ADJUDICATION_ALGORITHM); // warm-up
  const samples: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  const started = performance.now();
  while (performance.now() < end) {
    const t = performance.now();
    // The paying path, as the demo contract runs it in development (v3 denies a claim without a policy).
    await adjudicate(DEMO_CONTRACT, claim, null, null, POLICYLESS_ADJUDICATION_ALGORITHM);
    samples.push(performance.now() - t);
  }
  const elapsed = (performance.now() - started) / 1000;
  samples.sort((a, b) => a - b);
  console.log(
    `adjudication (2 lines, demo contract, this thread): ${(samples.length / elapsed).toFixed(0)} adjudications/s ` +
      `(${samples.length} in ${elapsed.toFixed(1)} s), p50 ${pct(samples, 50)} ms, p99 ${pct(samples, 99)} ms`,
  );
}

async function pooled(): Promise<void> {
  const pool = new AdjudicationPool({ workers: WORKERS, timeoutMs: 2000 });
  const job = {
    contractId: contractIdOf(DEMO_CONTRACT),
    contract: DEMO_CONTRACT,
    claim,
    coverage: null,
    review: null,
    algorithm: POLICYLESS_ADJUDICATION_ALGORITHM as typeof POLICYLESS_ADJUDICATION_ALGORITHM,
  };
  const batch = Array.from({ length: BATCH }, () => job);
  for (let i = 0; i < 20; i += 1) await pool.adjudicateMany(batch); // warm-up
  const samples: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  const started = performance.now();
  while (performance.now() < end) {
    const t = performance.now();
    await pool.adjudicateMany(batch);
    samples.push(performance.now() - t);
  }
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  samples.sort((a, b) => a - b);
  console.log(
    `adjudication (2 lines, demo contract, worker pool of ${WORKERS}, batches of ${BATCH}): ` +
      `${((samples.length * BATCH) / elapsed).toFixed(0)} adjudications/s, per batch p50 ${pct(samples, 50)} ms, ` +
      `p99 ${pct(samples, 99)} ms`,
  );
}

async function main(): Promise<void> {
  await direct();
  await pooled();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
