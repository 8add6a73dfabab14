/**
 * Runs one service as a child process for the launcher: its output lines prefixed with a coloured `[name]` label,
 * a readiness poll on its health endpoint, and a stop that escalates from SIGTERM to SIGKILL.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { settlesWithin, sleep } from './timing';

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  /** Resolves when the process ends, with a human-readable reason. */
  exited: Promise<string>;
  stop(): Promise<void>;
}

const STOP_TIMEOUT_MS = 10_000;
const COLOURS = [36, 35, 33, 32, 34, 31];

export function useColour(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
}

/** `[name]` padded to width, in the index-th colour when the terminal takes colour. */
export function label(name: string, index: number, width: number): string {
  const text = `[${name}]`.padEnd(width + 2);
  return useColour() ? `\x1b[${COLOURS[index % COLOURS.length]}m${text}\x1b[0m` : text;
}

export function startService(opts: {
  name: string;
  label: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Where its labelled lines go: the terminal unless given (the chaos run keeps them in a file). */
  output?: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };
}): ServiceProcess {
  // Own process group: Ctrl-C reaches only the launcher, which stops services in order and reports the rest.
  const child = spawn(opts.command, opts.args, {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (stream: NodeJS.ReadableStream, out: NodeJS.WritableStream) =>
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => out.write(`${opts.label} ${line}\n`));
  prefix(child.stdout!, opts.output?.stdout ?? process.stdout);
  prefix(child.stderr!, opts.output?.stderr ?? process.stderr);
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(`could not be spawned: ${err.message}`));
    child.once('exit', (code, signal) => resolve(signal ? `was killed by ${signal}` : `exited with code ${code}`));
  });
  let stopping: Promise<void> | undefined;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  };
  return {
    name: opts.name,
    child,
    exited,
    stop: () =>
      (stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
        signal('SIGTERM');
        const stopped = await settlesWithin(exited, STOP_TIMEOUT_MS);
        if (!stopped) {
          signal('SIGKILL');
          await exited;
        }
      })()),
  };
}

/** Polls url until it answers 200. Returns undefined when ready, else the last thing seen. */
export async function waitForHttp200(
  url: string,
  deadline: number,
  isDead: () => boolean,
): Promise<string | undefined> {
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (isDead()) return 'the process exited';
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return undefined;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).cause ? String((err as { cause: unknown }).cause) : (err as Error).message;
    }
    await sleep(300);
  }
  return last;
}

/** A service kept running: restarted when it dies, as a Kubernetes Deployment would, until stop(). */
export interface SupervisedService {
  name: string;
  /** The process running now (a new one after each restart). */
  readonly current: ServiceProcess;
  restarts: number;
  stop(): Promise<void>;
}

export interface RestartPolicy {
  /** Delay before the n-th restart in a row: min(base · 2^(n-1), max). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Up this long, a service's next death counts as the first in a row again. */
  stableAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { baseDelayMs: 1000, maxDelayMs: 30_000, stableAfterMs: 60_000 };

/**
 * Starts a service and restarts it whenever it ends, with backoff while it keeps dying (crash loops wait longer
 * each time, up to maxDelayMs). `onExit` hears each death and the delay before the restart, so the caller can say
 * it loudly.
 */
export function superviseService(
  start: () => ServiceProcess,
  onExit: (reason: string, restartInMs: number, restarts: number) => void,
  policy: RestartPolicy = DEFAULT_RESTART_POLICY,
): SupervisedService {
  let stopped = false;
  let inARow = 0;
  let wake: (() => void) | undefined;
  const supervised: SupervisedService = {
    name: '',
    current: start(),
    restarts: 0,
    stop: async () => {
      stopped = true;
      wake?.();
      await supervised.current.stop();
    },
  };
  supervised.name = supervised.current.name;
  const watch = async () => {
    while (!stopped) {
      const startedAt = Date.now();
      const reason = await supervised.current.exited;
      if (stopped) return;
      inARow = Date.now() - startedAt >= policy.stableAfterMs ? 1 : inARow + 1;
      const delay = Math.min(policy.baseDelayMs * 2 ** (inARow - 1), policy.maxDelayMs);
      onExit(reason, delay, supervised.restarts + 1);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (stopped) return;
      (supervised as { current: ServiceProcess }).current = start();
      supervised.restarts += 1;
    }
  };
  void watch();
  return supervised;
}
