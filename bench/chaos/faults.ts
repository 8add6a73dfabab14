/**
 * The chaos run's faults: a schedule drawn from a seed (the same seed, the same faults in the same order at the same
 * planned moments), and what injecting each one does to the running stack:
 *
 * - `kill`: SIGKILL of a service's process group; the stack's supervisor restarts it (1 s, doubling while it keeps
 *   dying), as `npm start` and Kubernetes do. It ends when the new process is spawned.
 * - `pause`: SIGSTOP of a service for 3–10 s, then SIGCONT: a process that hangs (GC, swap, a stuck node) while its
 *   connections and group membership stay open.
 * - `broker-kill`: kill -9 of the broker's JVM, started again on its data 1–5 s later; `broker-outage`: the same,
 *   60 s later.
 * - `postgres`: `pg_ctlcluster <version> <cluster> restart -m immediate` of the machine's Postgres (every database
 *   on it: other work on the machine sees it too).
 * - `poison`: one malformed message produced straight onto a consumed topic (see poison.ts).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SERVICE_NAMES, ServiceName } from '@claimchain/config';
import { sleep } from '../../scripts/infra/timing';
import type { Stack } from '../e2e/stack';
import { seededRandom } from '../e2e/workload';

export const FAULT_KINDS = ['kill', 'pause', 'broker-kill', 'broker-outage', 'postgres', 'poison'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** How often each kind is drawn once every enabled kind has had its turn. */
const WEIGHTS: Record<FaultKind, number> = {
  kill: 0.34,
  pause: 0.2,
  'broker-kill': 0.08,
  'broker-outage': 0.02,
  postgres: 0.1,
  poison: 0.26,
};
const BROKER_OUTAGE_S = 60;

export interface PlannedFault {
  n: number;
  kind: FaultKind;
  /** kill and pause: the service. */
  service?: ServiceName;
  /** Seconds after the load starts. */
  plannedAt: number;
  /** pause, broker-kill, broker-outage: how long the thing stays down (s). */
  downFor?: number;
}

/**
 * `count` faults spread over [warmup, seconds − tail] of the load, one per slot at a random point of its slot. The
 * first faults take every enabled kind once (in a seeded order), so a short run still sees each; the rest are drawn
 * by weight.
 */
export function planFaults(seed: number, count: number, seconds: number, kinds: readonly FaultKind[]): PlannedFault[] {
  const random = seededRandom(seed ^ 0x5eed);
  const first = [...kinds];
  for (let i = first.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [first[i], first[j]] = [first[j], first[i]];
  }
  const total = kinds.reduce((sum, k) => sum + WEIGHTS[k], 0);
  const draw = (): FaultKind => {
    let r = random() * total;
    for (const k of kinds) if ((r -= WEIGHTS[k]) < 0) return k;
    return kinds[kinds.length - 1];
  };
  const start = Math.min(10, seconds * 0.1);
  const slot = (seconds * 0.85 - start) / Math.max(count, 1);
  const faults: PlannedFault[] = [];
  for (let n = 0; n < count; n++) {
    const kind = n < first.length ? first[n] : draw();
    const fault: PlannedFault = { n: n + 1, kind, plannedAt: Math.round((start + (n + random()) * slot) * 10) / 10 };
    if (kind === 'kill' || kind === 'pause') fault.service = SERVICE_NAMES[Math.floor(random() * SERVICE_NAMES.length)];
    if (kind === 'pause') fault.downFor = 3 + Math.round(random() * 7);
    if (kind === 'broker-kill') fault.downFor = 1 + Math.round(random() * 4);
    if (kind === 'broker-outage') fault.downFor = BROKER_OUTAGE_S;
    faults.push(fault);
  }
  return faults;
}

export interface InjectedFault extends PlannedFault {
  /** When it was injected and when it ended (restart spawned, SIGCONT sent, broker answering again), ms. */
  injectedAt: number;
  endedAt: number;
  /** What it did, in words, or why it could not. */
  note: string;
  error?: string;
}

/** Who must show that the flow resumed after a fault: the service hit, or every one for the infrastructure. */
export function affectedServices(fault: PlannedFault): readonly ServiceName[] {
  if (fault.kind === 'poison') return [];
  return fault.service ? [fault.service] : SERVICE_NAMES;
}

const execFileAsync = promisify(execFile);
const RESTART_WAIT_MS = 120_000;

/**
 * Whether this process may restart the machine's Postgres: it must be root or postgres, and the cluster must exist.
 * Returns why not, or undefined.
 */
export async function postgresRestartUnavailable(cluster: [string, string]): Promise<string | undefined> {
  const uid = process.getuid?.();
  try {
    const { stdout } = await execFileAsync('pg_lsclusters', ['--no-header'], { timeout: 10_000 });
    const listed = stdout.split('\n').some((l) => l.trim().split(/\s+/).slice(0, 2).join(' ') === cluster.join(' '));
    if (!listed) return `no Postgres cluster ${cluster.join('/')} in pg_lsclusters`;
  } catch (error) {
    return `pg_lsclusters failed: ${(error as Error).message}`;
  }
  if (uid !== 0) {
    const { stdout } = await execFileAsync('id', ['-un']);
    if (stdout.trim() !== 'postgres') return `pg_ctlcluster needs root or postgres; this is ${stdout.trim()}`;
  }
  return undefined;
}

export interface FaultContext {
  stack: Stack;
  pgCluster: [string, string];
  poison: (fault: PlannedFault) => Promise<string>;
  log: (msg: string) => void;
}

/** Injects one fault and resolves when it has ended (the thing restarted or resumed). */
export async function inject(fault: PlannedFault, ctx: FaultContext): Promise<InjectedFault> {
  const { stack } = ctx;
  const injectedAt = Date.now();
  const done = (note: string, error?: string): InjectedFault => ({
    ...fault,
    injectedAt,
    endedAt: Date.now(),
    note,
    ...(error && { error }),
  });
  try {
    switch (fault.kind) {
      case 'kill': {
        const service = fault.service!;
        const before = stack.startedAt(service);
        stack.signal(service, 'SIGKILL');
        const deadline = Date.now() + RESTART_WAIT_MS;
        while (stack.startedAt(service) === before && Date.now() < deadline) await sleep(50);
        if (stack.startedAt(service) === before) return done(`killed ${service}`, 'not restarted in time');
        return { ...done(`killed ${service}, restarted`), endedAt: stack.startedAt(service) };
      }
      case 'pause': {
        const service = fault.service!;
        stack.signal(service, 'SIGSTOP');
        await sleep(fault.downFor! * 1000);
        stack.signal(service, 'SIGCONT');
        return done(`stopped ${service} for ${fault.downFor} s`);
      }
      case 'broker-kill':
      case 'broker-outage': {
        await stack.broker.kill();
        await sleep(fault.downFor! * 1000);
        await stack.broker.start();
        return done(`killed the broker, started it ${fault.downFor} s later`);
      }
      case 'postgres': {
        const [version, cluster] = ctx.pgCluster;
        await execFileAsync('pg_ctlcluster', [version, cluster, 'restart', '-m', 'immediate'], { timeout: 120_000 });
        return done(`restarted Postgres ${version}/${cluster} in immediate mode`);
      }
      case 'poison':
        return done(await ctx.poison(fault));
    }
  } catch (error) {
    ctx.log(`fault ${fault.n} (${fault.kind}) failed: ${(error as Error).message}`);
    return done(`${fault.kind} failed`, (error as Error).message);
  }
}
