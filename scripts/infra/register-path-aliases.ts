/**
 * Makes plain Node `require` understand the `@claimchain/*` aliases of tsconfig.json. Jest applies its
 * moduleNameMapper to test files only, not to globalSetup/globalTeardown, which load these scripts (and, through
 * scripts/migrate.ts, the apps) with Node's own resolver. Import this module first; it has effect on import.
 */
import Module from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths';

type Resolver = (request: string, ...rest: unknown[]) => string;
const moduleInternals = Module as unknown as { _resolveFilename: Resolver; __claimchainAliases?: boolean };

if (!moduleInternals.__claimchainAliases) {
  const root = repoRoot();
  const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as {
    compilerOptions?: { paths?: Record<string, string[]> };
  };
  const aliases = new Map(
    Object.entries(tsconfig.compilerOptions?.paths ?? {})
      .filter(([alias, targets]) => !alias.includes('*') && targets.length > 0)
      .map(([alias, targets]) => [alias, join(root, targets[0])]),
  );
  const resolve = moduleInternals._resolveFilename;
  moduleInternals._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]) {
    return resolve.call(this, aliases.get(request) ?? request, ...rest);
  };
  moduleInternals.__claimchainAliases = true;
}
