/**
 * Prints a bearer token from the local identity provider for trying the APIs:
 *   npm run token -- --role insurer --subject acme-health
 * `--subject` is the tenant the principal acts for (the insurer or provider id); the token's `sub` is
 * `<role>:<subject>` unless --sub is given. Needs the dev key `npm start` creates.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ROLES, Role, ensureDevKeys, signDevToken } from '@claimchain/http';
import { DEV_AUTH_KEY_FILE, DEV_JWKS_FILE } from './infra/paths';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      subject: { type: 'string' },
      sub: { type: 'string' },
      'expires-in': { type: 'string', default: '12h' },
    },
  });
  const role = values.role as Role | undefined;
  if (!role || !(ROLES as readonly string[]).includes(role) || !values.subject) {
    console.error(`usage: npm run token -- --role <${ROLES.join('|')}> --subject <tenant id> [--expires-in 12h]`);
    return 2;
  }
  if (!existsSync(DEV_AUTH_KEY_FILE)) await ensureDevKeys(DEV_AUTH_KEY_FILE, DEV_JWKS_FILE);
  const token = await signDevToken(DEV_AUTH_KEY_FILE, {
    role,
    tenant: values.subject,
    subject: values.sub,
    expiresIn: values['expires-in'],
  });
  process.stdout.write(`${token}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`token failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
