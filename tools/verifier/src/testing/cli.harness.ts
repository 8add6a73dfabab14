/**
 * Runs the CLI in-process, as a script would see it: the exit status, the one JSON line on stdout (checked to be
 * exactly one), and stderr. Plus a temporary directory for the files the auditor hands it.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCli } from '../verifier.cli';

export interface CliRun {
  exit: number;
  result: Record<string, unknown>;
  stderr: string;
}

export async function runVerifier(...argv: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const exit = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  if (!stdout.endsWith('\n') || stdout.indexOf('\n') !== stdout.length - 1) {
    throw new Error(`expected exactly one line on stdout, got ${JSON.stringify(stdout)}`);
  }
  return { exit, result: JSON.parse(stdout) as Record<string, unknown>, stderr };
}

export class TempFiles {
  private dir = '';

  async create(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'claimchain-verify-'));
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** Writes `name` (a path relative to the directory, created as needed). */
  async write(name: string, content: string): Promise<string> {
    await mkdir(dirname(this.path(name)), { recursive: true });
    await writeFile(this.path(name), content);
    return this.path(name);
  }
}

export function flipBit(bytes: Buffer, bit: number): Buffer {
  const flipped = Buffer.from(bytes);
  flipped[bit >> 3] ^= 1 << (bit & 7);
  return flipped;
}
