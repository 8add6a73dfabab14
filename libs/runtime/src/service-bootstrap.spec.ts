import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const FIXTURE = join(__dirname, '../test/run-service.fixture.ts');

describe('runService', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'closes the app on %s (shutdown hooks run) and exits 0, so a --cpu-prof profile is written',
    async (signal) => {
      const profiles = mkdtempSync(join(tmpdir(), 'run-service-'));
      const child = spawn(process.execPath, ['--import', 'tsx', '--cpu-prof', '--cpu-prof-dir', profiles, FIXTURE], {
        cwd: join(__dirname, '../../..'),
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const lines: string[] = [];
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      const ready = new Promise<void>((resolve) => {
        createInterface({ input: child.stdout! }).on('line', (line) => {
          lines.push(line);
          if (line === 'ready') resolve();
        });
      });
      await Promise.race([ready, exited]);
      child.kill(signal);
      const [code, killedBy] = await exited;
      expect({ code, killedBy }).toEqual({ code: 0, killedBy: null });
      expect(lines).toEqual(['ready', `fixture: ${signal}, shutting down`, 'closed']);
      // One profile per thread (tsx's loader runs in a thread of its own); none at all when killed by the signal.
      expect(readdirSync(profiles).filter((f) => f.endsWith('.cpuprofile')).length).toBeGreaterThanOrEqual(1);
    },
    30_000,
  );
});
