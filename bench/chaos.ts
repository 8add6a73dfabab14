/**
 * `npm run chaos` (issue 12): the real system as separate processes (the bench's stack runner, on a profile of its
 * own: broker 127.0.0.1:49092, `claimchain_chaos_*` databases, ports 3301–3304, every service supervised and
 * restarted when it dies), claims driven through the public APIs at a modest rate by a client that retries with the
 * same Idempotency-Key, and faults injected at moments drawn from a seed: services SIGKILLed (and restarted) or
 * SIGSTOPped for seconds, the broker killed and restarted (and once in a while down for 60 s), Postgres restarted in
 * immediate mode, poison produced onto consumed topics. Then it waits for the system to drain, reconciles through
 * the APIs and databases (chaos/reconcile.ts lists the invariants), writes report.json and summary.md (beside the
 * services' and broker's logs) into bench/results/chaos-<time>/, prints the summary, and exits 1 if an invariant
 * failed.
 *
 *   npm run chaos -- [--seed 12] [--faults 10] [--seconds 120 | --claims N] [--rate 20] [--drain 300]
 *                    [--kinds kill,pause,broker-kill,broker-outage,postgres,poison] [--pg-cluster 15/main] [--out DIR]
 *
 * The Postgres fault restarts the machine's server: anything else using it sees the restart too. Leave it out with
 * --kinds when that matters. Environment: DATABASE_URL, CHAOS_LOG_LEVEL (the services', default log).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { DEFAULT_DATABASE_URL, SERVICE_NAMES, ServiceName } from '@claimchain/config';
import { repoRoot } from '../scripts/infra/paths';
import { sleep } from '../scripts/infra/timing';
import { LoadGenerator, SentClaim } from './e2e/load';
import { create, gitCommit, issueTokens, publishContracts } from './e2e/setup';
import { CHAOS_PROFILE, databaseUrlOf, installShutdown, Stack, startStack } from './e2e/stack';
import { sharedCoverageId, Workload } from './e2e/workload';
import {
  FAULT_KINDS,
  FaultKind,
  inject,
  InjectedFault,
  planFaults,
  PlannedFault,
  postgresRestartUnavailable,
} from './chaos/faults';
import { PoisonInjector } from './chaos/poison';
import { confirmed, reconcile, TERMINAL } from './chaos/reconcile';
import { measureRecovery, Recovery } from './chaos/recovery';
import { ChaosReport, summaryMarkdown, toJson } from './chaos/report';

interface Options {
  seed: number;
  faults: number;
  seconds: number;
  rate: number;
  drain: number;
  kinds: FaultKind[];
  pgCluster: [string, string];
  out: string;
}

const USAGE =
  'usage: npm run chaos -- [--seed N] [--faults N] [--seconds S | --claims N] [--rate N] [--drain S]\n' +
  `                        [--kinds ${FAULT_KINDS.join(',')}] [--pg-cluster 15/main] [--out DIR]`;
/** Every n-th claim of an insurer with its own contract is on one of its few shared policies. */
const SHARED = { every: 3, perInsurer: 4 };
/** Every n-th claim that will be paid is sent again under a fresh Idempotency-Key. */
const DUPLICATE_EVERY = 25;
const RETRY = { giveUpAfterMs: 240_000, baseDelayMs: 250, maxDelayMs: 5_000 };
/** Extra load while faults are still to come after the planned load (a broker outage delays the rest). */
const EXTRA_LOAD_S = 10;
const MIN_FAULT_GAP_MS = 1_000;

function parseOptions(argv: string[]): Options {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (!arg.startsWith('--') || i + 1 >= argv.length) throw new Error(`unknown argument ${arg}\n${USAGE}`);
    flags.set(arg.slice(2), argv[++i]);
  }
  const known = ['seed', 'faults', 'seconds', 'claims', 'rate', 'drain', 'kinds', 'pg-cluster', 'out'];
  const unknown = [...flags.keys()].filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new Error(`unknown option --${unknown[0]}\n${USAGE}`);
  const num = (flag: string, fallback: number, min = 1) => {
    const value = Number(flags.get(flag) ?? fallback);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${flag} must be a number ≥ ${min}`);
    return value;
  };
  const rate = num('rate', 20);
  const seconds = flags.has('claims') ? num('claims', 1) / rate : num('seconds', 120);
  const kinds = (flags.get('kinds') ?? FAULT_KINDS.join(',')).split(',') as FaultKind[];
  const bad = kinds.find((k) => !FAULT_KINDS.includes(k));
  if (bad) throw new Error(`unknown fault kind ${bad}: ${FAULT_KINDS.join(', ')}`);
  const [version, cluster] = (flags.get('pg-cluster') ?? '15/main').split('/');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  return {
    seed: Math.round(num('seed', 12, 0)),
    faults: Math.round(num('faults', 10, 0)),
    seconds,
    rate,
    drain: num('drain', 300),
    kinds,
    pgCluster: [version, cluster ?? 'main'],
    out: flags.get('out') ?? join(repoRoot(), 'bench', 'results', `chaos-${stamp}`),
  };
}

const say = (msg: string) => console.log(`[chaos] ${new Date().toISOString().slice(11, 23)} ${msg}`);

let interrupted = false;
let currentLoad: LoadGenerator | undefined;
let currentStack: Stack | undefined;

async function enrolPolicies(stack: Stack, tokens: Map<string, string>, contracts: Map<string, string>) {
  for (const [insurer, contractId] of contracts) {
    for (let i = 0; i < SHARED.perInsurer; i++) {
      await create(stack.url('payout', '/v1/policies'), tokens.get(insurer)!, {
        coverageId: sharedCoverageId(insurer, i),
        contractId,
        period: { start: '2026-01-01', end: '2026-12-31' },
      });
    }
  }
}

/** How many of the claims claim-intake shows at an end. */
async function countTerminal(stack: Stack, ids: string[]): Promise<number> {
  const client = new Client({
    connectionString: databaseUrlOf(stack.databaseUrl, stack.databases['claim-intake']),
    connectionTimeoutMillis: 5_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM claims WHERE id = ANY($1::uuid[]) AND status = ANY($2)`,
      [ids, TERMINAL],
    );
    return rows[0].n;
  } catch {
    return -1;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Waits until every claim whose confirmation was accepted is at an end (the others wait for theirs), or the limit. */
async function drain(stack: Stack, sent: SentClaim[], seconds: number): Promise<number> {
  const ids = sent.filter(confirmed).map((s) => s.claimId!);
  const start = Date.now();
  let done = 0;
  let lastSaid = 0;
  while (Date.now() - start < seconds * 1000 && !interrupted) {
    done = await countTerminal(stack, ids);
    if (done === ids.length) break;
    if (Date.now() - lastSaid > 10_000) {
      say(`draining: ${done}/${ids.length} accepted and confirmed claims at an end`);
      lastSaid = Date.now();
    }
    await sleep(1000);
  }
  const took = (Date.now() - start) / 1000;
  say(`drain: ${done}/${ids.length} accepted and confirmed claims at an end after ${took.toFixed(1)} s`);
  return took;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const watchdogMs = (options.seconds + options.drain + options.faults * 15 + 20 * 60) * 1000;
  setTimeout(() => {
    console.error(`[chaos] over its time limit (${Math.round(watchdogMs / 1000)} s): stopping`);
    void shutdown(2);
  }, watchdogMs).unref();
  mkdirSync(options.out, { recursive: true });

  const skippedKinds: Record<string, string> = {};
  if (options.kinds.includes('postgres')) {
    const why = await postgresRestartUnavailable(options.pgCluster);
    if (why) {
      skippedKinds.postgres = why;
      options.kinds = options.kinds.filter((k) => k !== 'postgres');
      say(`no Postgres restarts: ${why}`);
    }
  }
  const plan = planFaults(options.seed, options.faults, options.seconds, options.kinds);

  const startedAt = new Date();
  const expectedExits = new Map<ServiceName, number>();
  const unplannedExits: string[] = [];
  const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  say(`starting the stack (logs in ${options.out})`);
  const stack = await startStack({
    databaseUrl,
    instances: 1,
    profile: CHAOS_PROFILE,
    logDir: options.out,
    env: { LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'log' },
    log: say,
    onRestart: (service, reason, restartInMs) => {
      const expected = expectedExits.get(service) ?? 0;
      if (expected > 0) expectedExits.set(service, expected - 1);
      else unplannedExits.push(`${service} ${reason} at ${new Date().toISOString()}`);
      say(`${service} ${reason}${expected > 0 ? '' : ' (NOT caused by the run)'}; restarting in ${restartInMs} ms`);
    },
  });
  currentStack = stack;
  const ports = SERVICE_NAMES.map((s) => CHAOS_PROFILE.ports[s]).join(', ');
  say(`system up on ${ports}, broker ${stack.brokers.join(',')}, databases ${CHAOS_PROFILE.prefix}_*`);
  const tokens = await issueTokens(stack);
  const contracts = await publishContracts(stack, tokens);
  await enrolPolicies(stack, tokens, contracts);

  const load = new LoadGenerator(
    {
      claims: stack.url('claim-intake', '/v1/claims'),
      confirmations: stack.url('treatment-verification', '/v1/confirmations'),
    },
    tokens,
    new Workload(options.seed, startedAt.getTime().toString(36), SHARED),
    { retry: RETRY, duplicateEvery: DUPLICATE_EVERY },
  );
  currentLoad = load;
  const poison = new PoisonInjector(stack, options.seed);
  const sent: SentClaim[] = [];
  const injected: (InjectedFault & { recovery?: Recovery })[] = [];
  const recoveries: Promise<void>[] = [];
  let faultsDone = false;

  say(
    `load: ${options.rate} claims/s for ${options.seconds.toFixed(0)} s (${Math.round(options.rate * options.seconds)} ` +
      `claims); ${plan.length} faults from seed ${options.seed}: ${plan.map((f) => f.kind).join(', ')}`,
  );
  const loadStart = Date.now();
  const driving = (async () => {
    await load.run('chaos', options.rate, options.seconds, sent);
    // Faults still to come (delayed behind a long one) get load to act on.
    while (!faultsDone && !interrupted) await load.run('chaos (extra)', options.rate, EXTRA_LOAD_S, sent);
  })();
  const faulting = (async () => {
    let lastEnd = 0;
    for (const fault of plan) {
      const due = Math.max(loadStart + fault.plannedAt * 1000, lastEnd + MIN_FAULT_GAP_MS);
      while (Date.now() < due && !interrupted) await sleep(Math.min(500, due - Date.now()));
      if (interrupted) break;
      if (fault.kind === 'kill') expectedExits.set(fault.service!, (expectedExits.get(fault.service!) ?? 0) + 1);
      const done: InjectedFault & { recovery?: Recovery } = await inject(fault, {
        stack,
        pgCluster: options.pgCluster,
        poison: (_f: PlannedFault) => poison.inject(),
        log: say,
      });
      say(
        `fault ${fault.n}/${plan.length}: ${done.note}${done.error ? ` — ${done.error}` : ''} ` +
          `(${((done.endedAt - done.injectedAt) / 1000).toFixed(1)} s)`,
      );
      injected.push(done);
      lastEnd = Date.now();
      if (fault.kind !== 'poison' && !done.error) {
        recoveries.push(
          measureRecovery(stack, done).then((recovery) => {
            done.recovery = recovery;
            say(
              `fault ${fault.n} (${fault.kind}${fault.service ? ` ${fault.service}` : ''}): recovered in ` +
                `${recovery.recoveredMs === null ? 'NOT IN TIME' : `${(recovery.recoveredMs / 1000).toFixed(1)} s`}`,
            );
          }),
        );
      }
    }
    faultsDone = true;
  })();
  await Promise.all([driving, faulting]);
  const loadSeconds = (Date.now() - loadStart) / 1000;
  say(`load done: ${sent.length} claims offered in ${loadSeconds.toFixed(0)} s; waiting for answers and retries…`);
  await load.finish();
  const reoffered = await load.confirmAgain();
  if (reoffered > 0) say(`offered ${reoffered} confirmation(s) again that were never accepted during the load`);
  const drainSeconds = await drain(stack, sent, options.drain);
  await Promise.all(recoveries);
  await poison.close();
  if (interrupted) return 130;

  say('reconciling…');
  const reconciliation = await reconcile(stack, sent, poison.injected, tokens);
  const report: ChaosReport = {
    startedAt: startedAt.toISOString(),
    commit: gitCommit(),
    options: { ...options, out: undefined },
    loadSeconds,
    drainSeconds,
    faults: injected,
    unplannedExits,
    skippedKinds,
    poison: poison.injected,
    reconciliation,
    ok: reconciliation.invariants.every((i) => i.ok),
  };
  writeFileSync(join(options.out, 'report.json'), toJson(report));
  const summary = summaryMarkdown(report);
  writeFileSync(join(options.out, 'summary.md'), summary);
  console.log(`\n${summary}`);
  say(`wrote ${options.out}/{report.json,summary.md,services.log,broker-*.log}`);
  return report.ok ? 0 : 1;
}

const shutdown = installShutdown({
  say,
  beforeStop: () => {
    currentLoad?.stop();
    currentLoad?.close();
    // A service left stopped would only die by SIGKILL after the stop's timeout.
    for (const service of SERVICE_NAMES) currentStack?.signal(service, 'SIGCONT');
  },
  onInterrupt: () => (interrupted = true),
});

main().then(
  (code) => shutdown(code),
  (error: unknown) => {
    console.error('[chaos] failed:', error);
    return shutdown(1);
  },
);
