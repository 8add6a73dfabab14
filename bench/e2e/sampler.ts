/**
 * What the bench watches while the load runs, every ~2 s: each consumer group's lag per topic (kafkajs admin: the
 * group's committed offsets against the topics' high watermarks), the messages produced in all, and the CPU each
 * process group used (from /proc, every process on the machine, so another job's share is visible rather than
 * hidden in the figures). Every sample is bounded in time; a sample that does not answer is skipped.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Admin, Kafka, logLevel } from 'kafkajs';
import { SERVICE_NAMES, ServiceName } from '@claimchain/config';
import { topicSpecs } from '@claimchain/wire';
import { E2E_PREFIX } from './stack';

export interface LagSample {
  /** ms since the epoch */
  t: number;
  /** group → topic → messages not yet committed by the group */
  lag: Record<string, Record<string, number>>;
  /** Sum of every topic's high watermark: messages produced so far. */
  produced: number;
}

export interface CpuSample {
  t: number;
  /** group → cores used over the interval before t (1.0 = one core busy) */
  cores: Record<string, number>;
  /** The whole machine's busy share over the interval, 0–1 of all cores (from /proc/stat). */
  machineBusy: number;
}

const INTERVAL_MS = 2_000;
const SAMPLE_TIMEOUT_MS = 5_000;

export class Sampler {
  readonly lag: LagSample[] = [];
  readonly cpu: CpuSample[] = [];
  private admin?: Admin;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private lastCpu?: {
    t: number;
    perPid: Map<number, { seconds: number; comm: string }>;
    machine: { busy: number; total: number };
  };
  private readonly groupCache = new Map<number, string>();

  constructor(
    private readonly brokers: string[],
    private readonly pids: () => { services: Record<ServiceName, number | undefined>; broker: number | undefined },
  ) {}

  async start(): Promise<void> {
    this.admin = new Kafka({
      clientId: 'claimchain-e2e-bench-lag',
      brokers: this.brokers,
      logLevel: logLevel.NOTHING,
    }).admin();
    await this.admin.connect();
    this.sampleCpu();
    this.timer = setInterval(() => {
      if (this.running) return; // the previous sample is still waiting on the broker
      this.running = this.sample().finally(() => (this.running = undefined));
    }, INTERVAL_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.admin?.disconnect().catch(() => undefined);
  }

  /** One lag sample now (also used at phase boundaries for the produced-message counts). */
  async sampleLag(): Promise<LagSample | undefined> {
    const admin = this.admin;
    if (!admin) return undefined;
    const work = (async () => {
      const topics = topicSpecs().map((s) => s.topic);
      const watermarks = new Map<string, Map<number, { high: number; low: number }>>();
      await Promise.all(
        topics.map(async (topic) => {
          const offsets = await admin.fetchTopicOffsets(topic);
          watermarks.set(
            topic,
            new Map(offsets.map((o) => [o.partition, { high: Number(o.high), low: Number(o.low) }])),
          );
        }),
      );
      const { groups } = await admin.listGroups();
      const lag: LagSample['lag'] = {};
      await Promise.all(
        groups
          .filter((g) => g.protocolType === 'consumer' || g.protocolType === '')
          .map(async ({ groupId }) => {
            const committed = await admin.fetchOffsets({ groupId });
            for (const { topic, partitions } of committed) {
              const marks = watermarks.get(topic);
              if (!marks) continue;
              let behind = 0;
              for (const p of partitions) {
                const mark = marks.get(p.partition);
                if (!mark) continue;
                const at = Number(p.offset);
                // Watermarks are read just before the group's offsets: a commit in between may pass them.
                behind += Math.max(0, mark.high - (at >= 0 ? at : mark.low));
              }
              (lag[groupId] ??= {})[topic] = behind;
            }
          }),
      );
      let produced = 0;
      for (const marks of watermarks.values()) for (const m of marks.values()) produced += m.high;
      return { t: Date.now(), lag, produced };
    })();
    return withTimeout(
      work.catch(() => undefined),
      SAMPLE_TIMEOUT_MS,
    );
  }

  private async sample(): Promise<void> {
    this.sampleCpu();
    const lag = await this.sampleLag().catch(() => undefined);
    if (lag) this.lag.push(lag);
  }

  /**
   * CPU per group over the interval, counted per process: a process that started in it counts from zero, and one
   * that ended in it (a pooled Postgres connection closing) does not take its whole past with it.
   */
  private sampleCpu(): void {
    const t = Date.now();
    const perPid = cpuSecondsByPid();
    const machine = machineTicks();
    const last = this.lastCpu;
    this.lastCpu = { t, perPid, machine };
    if (!last) return;
    const seconds = (t - last.t) / 1000;
    const cores: Record<string, number> = {};
    for (const [pid, { seconds: used, comm }] of perPid) {
      const delta = used - (last.perPid.get(pid)?.seconds ?? 0);
      if (delta <= 0) continue;
      const group = this.groupOf(pid, comm);
      cores[group] = (cores[group] ?? 0) + delta / seconds;
    }
    const total = machine.total - last.machine.total;
    this.cpu.push({ t, cores, machineBusy: total > 0 ? (machine.busy - last.machine.busy) / total : 0 });
  }

  /**
   * Services by their process (and a cluster's workers by their parent), the bench's broker by its pid, Postgres
   * backends of the bench's databases apart from those of anyone else's, this process as the load generator.
   */
  private groupOf(pid: number, comm: string): string {
    const cached = this.groupCache.get(pid);
    if (cached) return cached;
    const { services, broker } = this.pids();
    const byPid = new Map<number | undefined, string>(SERVICE_NAMES.map((s) => [services[s], s]));
    let group = byPid.get(pid);
    if (!group && pid === process.pid) group = 'load generator';
    if (!group && pid === broker) group = 'kafka broker';
    if (!group && comm === 'postgres') {
      const cmdline = readText(`/proc/${pid}/cmdline`).replace(/\0/g, ' ');
      // A backend's title is "postgres: [<cluster>: ]<user> <database> <client>(<port>)|[local] <state>"; the
      // server's own processes name their role (checkpointer, walwriter, …) and serve every database, ours too.
      const backend = /^postgres: (?:\S+: )?\S+ (\S+) (?:\S+\(\d+\)|\[local\])/.exec(cmdline);
      group = !backend || backend[1].startsWith(E2E_PREFIX) ? 'postgres' : 'postgres (other databases)';
    }
    if (!group && comm === 'java') group = 'other java';
    if (!group) group = byPid.get(parentOf(pid)) ?? 'other';
    // Cache only what cannot change for this pid (a pid is reused rarely within a run).
    if (group !== 'other') this.groupCache.set(pid, group);
    return group;
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds (user + system) each process has used so far, with its name, from /proc/<pid>/stat. */
function cpuSecondsByPid(): Map<number, { seconds: number; comm: string }> {
  const out = new Map<number, { seconds: number; comm: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readText(`/proc/${entry}/stat`);
    if (!stat) continue; // exited meanwhile
    // pid (comm) state ppid …: utime and stime are fields 14 and 15, counted after the parenthesised name.
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    out.set(Number(entry), {
      seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
      comm: stat.slice(stat.indexOf('(') + 1, close),
    });
  }
  return out;
}

function parentOf(pid: number): number | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** The machine's busy and total CPU ticks so far (the `cpu` line of /proc/stat; idle and iowait count as idle). */
function machineTicks(): { busy: number; total: number } {
  const line = readText('/proc/stat').split('\n')[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: total - idle, total };
}

export async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
