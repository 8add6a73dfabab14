/**
 * What a run sets up through the public APIs before its load, shared by the bench and the chaos run: a token per
 * insurer and provider, and the contracts three of the insurers publish (workload.ts says which); and the commit
 * its report names.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { repoRoot } from '../../scripts/infra/paths';
import { Stack } from './stack';
import { INSURERS, PROVIDERS } from './workload';

/** Bearer tokens of every insurer and provider of the workload, by tenant. */
export async function issueTokens(stack: Stack): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  for (const insurer of INSURERS) tokens.set(insurer.id, await stack.token('insurer', insurer.id));
  for (const provider of PROVIDERS) tokens.set(provider, await stack.token('provider', provider));
  return tokens;
}

/** POSTs a create to one of the services and returns its JSON answer; anything but 200/201 is an error. */
export async function create<T>(url: string, token: string, body: object): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': randomUUID() },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 201 && res.status !== 200) throw new Error(`POST ${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Publishes the insurers' own contracts; returns each one's contract id by insurer. */
export async function publishContracts(stack: Stack, tokens: Map<string, string>): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const insurer of INSURERS.filter((i) => i.contract)) {
    const { id } = await create<{ id: string }>(
      stack.url('payout', '/v1/contracts'),
      tokens.get(insurer.id)!,
      insurer.contract!,
    ).catch((error: Error) => {
      throw new Error(`publishing ${insurer.id}'s contract: ${error.message}`);
    });
    ids.set(insurer.id, id);
  }
  return ids;
}

/** HEAD, marked `+dirty` when the code the services run has uncommitted changes (the tree may be shared). */
export function gitCommit(): string | undefined {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: repoRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const dirty = git('status', '--porcelain', '--', 'apps', 'libs', 'scripts') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? '+dirty' : ''}`;
  } catch {
    return process.env.BENCH_COMMIT;
  }
}
