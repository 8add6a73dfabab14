/**
 * Where the repository and its local state live, resolved from this file so the same code works from `scripts/`
 * (tsx, jest) and from `dist/scripts/` (npm start).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cachedRoot: string | undefined;

/** The nearest ancestor of this file holding package.json (`dist/` has none, so the build finds the same root). */
export function repoRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`No package.json above ${__dirname}`);
    dir = parent;
  }
  cachedRoot = dir;
  return dir;
}

/** Local, disposable state (broker artifacts and data, signing key): `<repo>/.cache/...`, git-ignored. */
export function cachePath(...parts: string[]): string {
  return join(repoRoot(), '.cache', ...parts);
}

/** The local identity provider's key pair (npm start creates it; `npm run token` signs with the private half). */
export const DEV_AUTH_KEY_FILE = cachePath('auth', 'dev-signing.jwk');
export const DEV_JWKS_FILE = cachePath('auth', 'jwks.json');
