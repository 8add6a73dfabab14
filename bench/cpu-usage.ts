/**
 * Where a benchmark's CPU goes, from /proc (Linux): CPU seconds per process group between two snapshots. Every
 * process on the machine is counted, so work that is not the system under test (another job, the load generator)
 * shows up rather than hiding in the figures.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export type CpuSnapshot = Map<string, number>;

/** CPU seconds (user + system) used so far by each group; `groupOf` names a process's group from its pid and name. */
export function cpuSnapshot(groupOf: (pid: number, comm: string) => string): CpuSnapshot {
  const totals: CpuSnapshot = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid ... utime stime: fields 14 and 15, counted after the parenthesised name.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    const seconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    const group = groupOf(Number(entry), comm);
    totals.set(group, (totals.get(group) ?? 0) + seconds);
  }
  return totals;
}

/**
 * The usual grouping: the processes the caller names, Postgres backends, the Kafka broker's JVM (even when a named
 * process started it), then the children of a named process (a cluster's workers), and everything else.
 */
export function groupByRole(named: Record<string, number | undefined>): (pid: number, comm: string) => string {
  const byPid = new Map(Object.entries(named).map(([name, pid]) => [pid, name]));
  return (pid, comm) =>
    byPid.get(pid) ??
    (comm === 'postgres' ? 'postgres' : comm === 'java' ? 'kafka broker' : byPid.get(parentOf(pid))) ??
    'other';
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** "group 1.23 s (61%)" per group, largest first, for the CPU used between two snapshots over `wallSeconds`. */
export function describeCpu(before: CpuSnapshot, after: CpuSnapshot, wallSeconds: number, perUnit?: number): string {
  const used = [...after].map(([group, s]) => [group, s - (before.get(group) ?? 0)] as const).filter(([, s]) => s > 0);
  used.sort((a, b) => b[1] - a[1]);
  const total = used.reduce((n, [, s]) => n + s, 0);
  const parts = used.map(
    ([group, s]) => `${group} ${s.toFixed(1)} s` + (perUnit ? ` (${((s / perUnit) * 1e6).toFixed(0)} µs/claim)` : ''),
  );
  return `CPU ${total.toFixed(1)} s in ${wallSeconds.toFixed(1)} s wall (${((total / wallSeconds) * 100).toFixed(0)}% of one core): ${parts.join(', ')}`;
}
