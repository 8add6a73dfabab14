/**
 * End-to-end benchmark of the whole pipeline: `npm run bench` (issue 11). Starts the real system as `npm start`
 * does, on its own broker (127.0.0.1:39092), `claimchain_e2e_*` databases (dropped first) and ports 3201–3204, with
 * the rate limit raised; publishes three insurers' contracts; measures the ceilings (Postgres commits/s, kafkajs
 * produce→consume on the same broker); then drives open-loop load at a fixed arrival rate through the public APIs
 * (claims from four insurers, each followed by its provider's confirmation; see e2e/workload.ts for the mix):
 * warm-up, steady state, and a bounded drain. Latencies come from the services' own timestamps, read from their
 * databases afterwards (e2e/analyze.ts says which). Writes report.json, summary.md and chart.svg into
 * bench/results/<time>/ and prints the summary.
 *
 *   npm run bench -- [--rate 50] [--seconds 60] [--warmup 10] [--drain 60] [--instances 1]
 *   npm run bench -- --sweep [--rates 10,25,50,100,200,300,500,750,1000] [--step-seconds 20]
 *
 * Environment: BENCH_RATE, BENCH_SECONDS, BENCH_WARMUP, BENCH_DRAIN, BENCH_INSTANCES (processes per service,
 * node:cluster on one port, one consumer each in the service's group), BENCH_SWEEP_RATES, BENCH_STEP_SECONDS,
 * BENCH_SEED, BENCH_OUT (results directory), BENCH_LOG_LEVEL (services', default warn), DATABASE_URL, BENCH_OTEL_SINK
 * (1: tracing on, exported over OTLP to a loopback sink in this process; OTEL_TRACES_SAMPLER/_ARG pick the sampling).
 * `--sweep` raises the rate step by step on one running system and reports the knee: the highest rate whose p99
 * accepted→paid stays ≤ 1 s; it stops once a step is clearly past it. Ctrl-C stops the load and tears everything
 * down; so does the overall time limit.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DATABASE_URL } from '@claimchain/config';
import { repoRoot } from '../scripts/infra/paths';
import { analyzePhase, claimTimes, PhaseResult } from './e2e/analyze';
import { Ceilings, kafkaCeiling, postgresCommitCeiling } from './e2e/ceilings';
import { collectFacts, committedTransactions, countFinished } from './e2e/collect';
import { LoadGenerator, SentClaim, sleep } from './e2e/load';
import { BenchReport, chartSvg, summaryMarkdown, sweepSvg, toJson } from './e2e/report';
import { Sampler } from './e2e/sampler';
import { installShutdown, Stack, startStack } from './e2e/stack';
import { startOtlpSink } from './e2e/otlp-sink';
import { formatMs } from './e2e/stats';
import { Workload } from './e2e/workload';
import { gitCommit, issueTokens, publishContracts } from './e2e/setup';

interface Options {
  rate: number;
  seconds: number;
  warmup: number;
  drain: number;
  instances: number;
  sweep: boolean;
  rates: number[];
  stepSeconds: number;
  seed: number;
  out: string;
}

const USAGE =
  'usage: npm run bench -- [--rate N] [--seconds S] [--warmup S] [--drain S] [--instances N] [--seed N] [--out DIR]\n' +
  '                        [--sweep [--rates a,b,c] [--step-seconds S]]';
/** The knee's criterion: p99 accepted→paid. */
const KNEE_P99_MS = 1000;
/** A sweep step's own warm-up: --warmup, at most this. */
const STEP_WARMUP_MAX_S = 5;
/** Setup (broker, migrations, services, ceilings) and the analysis, on top of the phases' own time. */
const OVERHEAD_BUDGET_MS = 6 * 60_000;

function parseOptions(argv: string[]): Options {
  const env = process.env;
  const flags = new Map<string, string>();
  let sweep = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--sweep') sweep = true;
    else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg.startsWith('--') && i + 1 < argv.length) flags.set(arg.slice(2), argv[++i]);
    else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  const known = ['rate', 'seconds', 'warmup', 'drain', 'instances', 'rates', 'step-seconds', 'seed', 'out'];
  const unknown = [...flags.keys()].filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new Error(`unknown option --${unknown[0]}\n${USAGE}`);
  const num = (flag: string, envName: string, fallback: number) => {
    const value = Number(flags.get(flag) ?? env[envName] ?? fallback);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${flag} must be a positive number`);
    return value;
  };
  const rates = (flags.get('rates') ?? env.BENCH_SWEEP_RATES ?? '10,25,50,100,200,300,500,750,1000')
    .split(',')
    .map(Number);
  if (rates.some((r) => !Number.isFinite(r) || r <= 0)) throw new Error('--rates takes positive numbers: 10,25,50');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  return {
    rate: num('rate', 'BENCH_RATE', 50),
    seconds: num('seconds', 'BENCH_SECONDS', 60),
    warmup: num('warmup', 'BENCH_WARMUP', 10),
    drain: num('drain', 'BENCH_DRAIN', 60),
    instances: Math.round(num('instances', 'BENCH_INSTANCES', 1)),
    sweep,
    rates,
    stepSeconds: num('step-seconds', 'BENCH_STEP_SECONDS', 20),
    seed: Math.round(num('seed', 'BENCH_SEED', 11)),
    out: flags.get('out') ?? env.BENCH_OUT ?? join(repoRoot(), 'bench', 'results', `${stamp}${sweep ? '-sweep' : ''}`),
  };
}

const say = (msg: string) => console.log(`[bench] ${msg}`);

let interrupted = false;

/** Waits until every confirmed claim has finished (owning services, and claim-intake's view), or the limit. */
async function drain(stack: Stack, sent: SentClaim[], seconds: number): Promise<number> {
  const ids = sent.filter((s) => s.confirmStatus === 201 || s.confirmStatus === 202).map((s) => s.claimId!);
  const start = Date.now();
  const deadline = start + seconds * 1000;
  let last = { done: 0, shown: 0 };
  while (Date.now() < deadline && !interrupted) {
    last = await countFinished(stack, ids);
    if (last.done >= ids.length && last.shown >= ids.length) break;
    await sleep(1000);
  }
  say(
    `drained in ${((Date.now() - start) / 1000).toFixed(1)} s: ${last.done}/${ids.length} finished, ` +
      `${last.shown}/${ids.length} shown finished by claim-intake`,
  );
  return (Date.now() - start) / 1000;
}

interface PhaseRun {
  name: string;
  rate: number;
  window: { start: number; end: number };
  sent: SentClaim[];
  commits: number;
  messages: number;
  drainSeconds: number;
  drainedAt: number;
}

async function runPhase(
  ctx: { stack: Stack; load: LoadGenerator; sampler: Sampler; all: SentClaim[] },
  name: string,
  rate: number,
  seconds: number,
  drainSeconds: number,
): Promise<PhaseRun> {
  const sent: SentClaim[] = [];
  const start = Date.now();
  say(`${name}: ${rate} claims/s for ${seconds} s`);
  // Open loop: the load starts at once (the previous phase's last claim was due a moment ago); the counters are
  // read beside it, and only for a measured phase (one that drains).
  const measured = drainSeconds > 0;
  const before = measured
    ? Promise.all([committedTransactions(ctx.stack), ctx.sampler.sampleLag()])
    : Promise.resolve([0, undefined] as const);
  await ctx.load.run(name, rate, seconds, sent);
  const end = Date.now();
  const [commitsBefore, lagBefore] = await before;
  const [commitsAfter, lagAfter] = measured
    ? await Promise.all([committedTransactions(ctx.stack), ctx.sampler.sampleLag()])
    : [0, undefined];
  for (const s of sent) ctx.all.push(s);
  let drained = 0;
  if (measured && !interrupted) {
    await ctx.load.finish();
    drained = await drain(ctx.stack, ctx.all, drainSeconds);
  }
  return {
    name,
    rate,
    window: { start, end },
    sent,
    commits: commitsAfter - commitsBefore,
    messages: lagBefore && lagAfter ? lagAfter.produced - lagBefore.produced : NaN,
    drainSeconds: drained,
    drainedAt: Date.now(),
  };
}

/** `since`: the earliest time an event of interest can have been written (a phase's start, or the run's). */
async function analyze(stack: Stack, all: SentClaim[], runs: PhaseRun[], since: number): Promise<PhaseResult[]> {
  say(`reading the services' timestamps for ${all.length} claims…`);
  const facts = await collectFacts(
    stack,
    all.filter((s) => s.claimId).map((s) => s.claimId!),
    since,
  );
  const times = claimTimes(all, facts);
  return runs.map((r) => {
    const result = analyzePhase({
      name: r.name,
      rate: r.rate,
      window: r.window,
      all: times,
      sent: r.sent,
      allSent: all,
      seriesRange: { start: Math.max(since, Math.min(...all.map((s) => s.intendedAt))), end: r.drainedAt },
      facts,
    });
    const finishedInWindow = result.achievedRate * result.seconds;
    if (finishedInWindow > 0)
      result.perClaim = { commits: r.commits / finishedInWindow, messages: r.messages / finishedInWindow };
    return result;
  });
}

function kneeOf(steps: PhaseResult[]): PhaseResult | undefined {
  return steps
    .filter((s) => (s.submitToPaid.p99 ?? Infinity) <= KNEE_P99_MS)
    .sort((a, b) => b.offeredRate - a.offeredRate)[0];
}

/** Past the knee beyond doubt: far over the latency bound, or not keeping up with the offered rate. */
function clearlyPast(step: PhaseResult): boolean {
  const p99 = step.submitToPaid.p99 ?? Infinity;
  return p99 > 5 * KNEE_P99_MS || step.achievedRate < 0.8 * step.offeredRate || step.unfinished > 0.01 * step.sent;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const phasesMs = options.sweep
    ? options.rates.length * (STEP_WARMUP_MAX_S + options.stepSeconds + options.drain) * 1000
    : (options.warmup + options.seconds + options.drain) * 1000;
  const watchdog = setTimeout(() => {
    console.error(`[bench] over its time limit (${Math.round((phasesMs + OVERHEAD_BUDGET_MS) / 1000)} s): stopping`);
    void shutdown(1);
  }, phasesMs + OVERHEAD_BUDGET_MS);
  watchdog.unref();

  const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const startedAt = new Date();
  const sink = process.env.BENCH_OTEL_SINK === '1' ? await startOtlpSink() : undefined;
  if (sink)
    say(
      `tracing on: OTLP to a loopback sink, sampler ${process.env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on'} ${process.env.OTEL_TRACES_SAMPLER_ARG ?? ''}`,
    );
  const stack = await startStack({ databaseUrl, instances: options.instances, log: say, env: sink?.env });
  say(`system up: ${options.instances} process(es) per service on 3201–3204, broker ${stack.brokers.join(',')}`);
  const tokens = await issueTokens(stack);
  await publishContracts(stack, tokens);

  say('ceilings: Postgres commits/s…');
  const postgres = await postgresCommitCeiling(databaseUrl);
  say(`  ${postgres.commitsPerSecond.toFixed(0)} commits/s (p99 ${formatMs(postgres.commitLatencyMs.p99)})`);
  say('ceilings: kafkajs produce→consume…');
  const kafka = await kafkaCeiling(stack.brokers);
  say(
    `  ${kafka.flatOut.messagesPerSecond.toFixed(0)} messages/s flat out; at ${kafka.fixedRate.rate}/s ` +
      `p50 ${formatMs(kafka.fixedRate.latencyMs.p50)}, p99 ${formatMs(kafka.fixedRate.latencyMs.p99)}`,
  );
  const ceilings: Ceilings = { postgres, kafka };

  const runId = startedAt.getTime().toString(36);
  const load = new LoadGenerator(
    {
      claims: stack.url('claim-intake', '/v1/claims'),
      confirmations: stack.url('treatment-verification', '/v1/confirmations'),
    },
    tokens,
    new Workload(options.seed, runId),
  );
  currentLoad = load;
  const sampler = new Sampler(stack.brokers, () => stack.pids());
  await sampler.start();
  const all: SentClaim[] = [];
  const ctx = { stack, load, sampler, all };
  const runs: PhaseRun[] = [];
  const stepResults: PhaseResult[] = [];
  let stopReason: string | undefined;
  try {
    if (!options.sweep) {
      await runPhase(ctx, 'warm-up', options.rate, options.warmup, 0);
      runs.push(await runPhase(ctx, 'steady', options.rate, options.seconds, options.drain));
    } else {
      for (const rate of options.rates) {
        if (interrupted || stack.died()) break;
        // Each step warms up at its own rate first (not measured), so its window starts in steady state.
        const warm = await runPhase(ctx, `warm-up ${rate}/s`, rate, Math.min(options.warmup, STEP_WARMUP_MAX_S), 0);
        const run = await runPhase(ctx, `step ${rate}/s`, rate, options.stepSeconds, options.drain);
        runs.push(run);
        // Earlier steps were drained: what finishes in this step's window was written after its warm-up began.
        const [result] = await analyze(stack, all, [run], warm.window.start - 1000);
        stepResults.push(result);
        say(
          `  ${rate}/s: achieved ${result.achievedRate.toFixed(1)}/s, accepted→paid p50 ` +
            `${formatMs(result.submitToPaid.p50)} p99 ${formatMs(result.submitToPaid.p99)}, unfinished ${result.unfinished}`,
        );
        if (clearlyPast(result)) {
          stopReason = `stopped after ${rate}/s: clearly past the knee`;
          break;
        }
      }
    }
  } finally {
    await sampler.stop();
  }
  if (sink) say(`OTLP sink: ${sink.received().requests} exports, ${(sink.received().bytes / 1e6).toFixed(1)} MB`);
  if (interrupted) return;
  if (stack.died()) throw new Error(`${stack.died()} during the run: no figures`);

  const runStart = Math.min(...all.map((s) => s.intendedAt));
  const phases = options.sweep ? stepResults : await analyze(stack, all, runs, runStart - 5_000);
  const knee = options.sweep ? kneeOf(stepResults) : undefined;
  const report: BenchReport = {
    startedAt: startedAt.toISOString(),
    commit: gitCommit(),
    machine: { cpus: cpus().length },
    options: { ...options, out: undefined },
    ceilings,
    phases,
    sweep: options.sweep
      ? { kneeRate: knee?.offeredRate ?? null, criterion: `p99 accepted→paid ≤ ${KNEE_P99_MS} ms`, stopReason }
      : undefined,
    lag: sampler.lag,
    cpu: sampler.cpu,
  };
  mkdirSync(options.out, { recursive: true });
  writeFileSync(join(options.out, 'report.json'), toJson(report));
  const summary = summaryMarkdown(report);
  writeFileSync(join(options.out, 'summary.md'), summary);
  writeFileSync(join(options.out, 'chart.svg'), chartSvg(report));
  if (options.sweep) writeFileSync(join(options.out, 'sweep.svg'), sweepSvg(report));
  console.log(`\n${summary}`);
  say(`wrote ${options.out}/{report.json,summary.md,chart.svg${options.sweep ? ',sweep.svg' : ''}}`);
}

let currentLoad: LoadGenerator | undefined;
const shutdown = installShutdown({
  say,
  beforeStop: () => {
    currentLoad?.stop();
    currentLoad?.close();
  },
  onInterrupt: () => (interrupted = true),
});

main().then(
  () => shutdown(0),
  (error: unknown) => {
    console.error('[bench] failed:', error);
    return shutdown(1);
  },
);
