import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, JWK, SignJWT } from 'jose';
import { DEV_AUTH_AUDIENCE, DEV_AUTH_ISSUER } from '@claimchain/config';
import { Role, ROLE_CLAIM, TENANT_CLAIM } from './principal';

const KID = 'claimchain-dev-1';

/**
 * A local identity provider for development and tests: an ES256 key pair whose public half is the JWKS the
 * services trust. Never used when AUTH_JWKS_URL points at a real identity provider.
 */
export async function ensureDevKeys(privateJwkFile: string, jwksFile: string): Promise<boolean> {
  if (existsSync(privateJwkFile) && existsSync(jwksFile)) return false;
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const priv = { ...(await exportJWK(privateKey)), kid: KID, alg: 'ES256' };
  const pub = { ...(await exportJWK(publicKey)), kid: KID, alg: 'ES256', use: 'sig' };
  mkdirSync(dirname(privateJwkFile), { recursive: true });
  writeFileSync(privateJwkFile, JSON.stringify(priv), { mode: 0o600 });
  writeFileSync(jwksFile, JSON.stringify({ keys: [pub] }));
  return true;
}

export interface TokenRequest {
  role: Role;
  tenant: string;
  subject?: string;
  issuer?: string;
  audience?: string;
  expiresIn?: string;
}

/** Signs a token with the dev private key (`npm run token`, tests). */
export async function signDevToken(privateJwkFile: string, request: TokenRequest): Promise<string> {
  const jwk = JSON.parse(readFileSync(privateJwkFile, 'utf8')) as JWK;
  const key = await importJWK(jwk, 'ES256');
  return new SignJWT({ [ROLE_CLAIM]: request.role, [TENANT_CLAIM]: request.tenant })
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid })
    .setSubject(request.subject ?? `${request.role}:${request.tenant}`)
    .setIssuer(request.issuer ?? DEV_AUTH_ISSUER)
    .setAudience(request.audience ?? DEV_AUTH_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(request.expiresIn ?? '12h')
    .sign(key);
}
