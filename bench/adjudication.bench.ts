/**
 * Benchmark of adjudication in isolation (`npm run bench:adjudication`): the pure contract function on a two-line
 * claim with the demo contract (json-rules-engine rules, coinsurance, an excluded code), no database, one core.
 * Prints adjudications/s and per-call latency percentiles. Bounded: BENCH_SECONDS (default 5).
 */
import { performance } from 'node:perf_hooks';
import { claimItem } from '@claimchain/testing';
import { adjudicate, ClaimToAdjudicate, DEMO_CONTRACT, POLICYLESS_ADJUDICATION_ALGORITHM } from '../apps/payout/src';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

const claim: ClaimToAdjudicate = {
  providerId: 'clinic-1',
  currency: 'EUR',
  patientPseudonym: 'a'.repeat(64),
  items: [claimItem(1, '99213', '120.00'), claimItem(2, '15780', '30.50')],
};

async function main(): Promise<void> {
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
  const pct = (p: number) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))].toFixed(3);
  console.log(
    `adjudication (2 lines, demo contract, one core): ${(samples.length / elapsed).toFixed(0)} adjudications/s ` +
      `(${samples.length} in ${elapsed.toFixed(1)} s), p50 ${pct(50)} ms, p99 ${pct(99)} ms`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
