import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, JSONWebKeySet, jwtVerify, JWTVerifyGetKey } from 'jose';
import { Principal, Role, ROLE_CLAIM, ROLES, TENANT_CLAIM } from './principal';

export interface AuthConfig {
  /** Production: the identity provider's JWKS endpoint. */
  jwksUrl?: string;
  /** Local and tests: a JWKS JSON file (the launcher writes `.cache/auth/jwks.json`). */
  jwksFile?: string;
  issuer: string;
  audience: string;
  /**
   * How long the JWKS and a verified token are trusted before being checked again (default 60 s): a token whose key
   * the identity provider removed from its JWKS stops verifying within about this long.
   */
  keyRefreshMs?: number;
}

export const DEFAULT_KEY_REFRESH_MS = 60_000;

/** Why a token was refused; the message is safe to show the caller. */
export class TokenRejectedError extends Error {}

/**
 * A tenant is the id of the insurer's or provider's FHIR Organization (claims name it as `Organization/<tenant>`),
 * so it has R4's id format; it is stored and indexed with every claim, which an unbounded one would break.
 */
const TENANT = /^[A-Za-z0-9\-.]{1,64}$/;

/** Accepted signature algorithms: asymmetric only, so a leaked verifier key cannot mint tokens. */
const ALGORITHMS = ['ES256', 'RS256', 'EdDSA'];

/**
 * Verifies OAuth2/OIDC-style bearer JWTs (signature against the JWKS, issuer, audience, expiry) and turns them into a
 * Principal. One instance per service. The JWKS (remote: jose's cache; a file: read again) and each verified token
 * are trusted for `keyRefreshMs` at most, so removing a key from the JWKS revokes its tokens within that time.
 */
export class TokenVerifier {
  private readonly refreshMs: number;
  private readonly remoteKeys?: JWTVerifyGetKey;
  private fileKeys?: { keys: JWTVerifyGetKey; readAtMs: number };
  /**
   * Verified tokens until they expire or are due a recheck against the JWKS: an ES256 verification costs ~0.2 ms of
   * CPU (about 5,400/s on one core here), which would dominate the claim intake hot path. Bounded; the oldest go
   * first.
   */
  private readonly verified = new Map<string, { principal: Principal; validUntilMs: number }>();
  private static readonly CACHE_SIZE = 10_000;

  constructor(private readonly config: AuthConfig) {
    this.refreshMs = config.keyRefreshMs ?? DEFAULT_KEY_REFRESH_MS;
    if (config.jwksUrl) {
      // jose keeps a fetched JWKS 10 minutes by default; a removed key must stop working sooner.
      this.remoteKeys = createRemoteJWKSet(new URL(config.jwksUrl), {
        cacheMaxAge: this.refreshMs,
        cooldownDuration: Math.min(30_000, this.refreshMs),
      });
    } else if (!config.jwksFile) {
      throw new Error('authentication needs AUTH_JWKS_URL or AUTH_JWKS_FILE (npm start writes .cache/auth/jwks.json)');
    } else {
      this.keysFromFile();
    }
  }

  async verify(token: string): Promise<Principal> {
    const cached = this.verified.get(token);
    if (cached && cached.validUntilMs > Date.now()) return cached.principal;
    if (cached) this.verified.delete(token);
    const { principal, expiresAtMs } = await this.verifyUncached(token);
    if (this.verified.size >= TokenVerifier.CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { principal, validUntilMs: Math.min(expiresAtMs, Date.now() + this.refreshMs) });
    return principal;
  }

  /** The JWKS file's keys, read again once they are `refreshMs` old (a key removed from it stops verifying). */
  private keysFromFile(): JWTVerifyGetKey {
    const now = Date.now();
    if (!this.fileKeys || now - this.fileKeys.readAtMs >= this.refreshMs) {
      const jwks = JSON.parse(readFileSync(this.config.jwksFile!, 'utf8')) as JSONWebKeySet;
      this.fileKeys = { keys: createLocalJWKSet(jwks), readAtMs: now };
    }
    return this.fileKeys.keys;
  }

  private async verifyUncached(token: string): Promise<{ principal: Principal; expiresAtMs: number }> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.remoteKeys ?? this.keysFromFile(), {
        issuer: this.config.issuer,
        audience: this.config.audience,
        algorithms: ALGORITHMS,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      throw new TokenRejectedError(`invalid bearer token: ${(error as Error).message}`);
    }
    const role = payload[ROLE_CLAIM];
    const tenant = payload[TENANT_CLAIM];
    if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
      throw new TokenRejectedError(`invalid bearer token: claim "${ROLE_CLAIM}" must be one of ${ROLES.join(', ')}`);
    }
    if (typeof tenant !== 'string' || tenant.length === 0) {
      throw new TokenRejectedError(`invalid bearer token: claim "${TENANT_CLAIM}" is missing`);
    }
    if (!TENANT.test(tenant)) {
      throw new TokenRejectedError(`invalid bearer token: claim "${TENANT_CLAIM}" must be 1-64 of A-Z a-z 0-9 - .`);
    }
    return {
      principal: { subject: payload.sub as string, role: role as Role, tenant },
      expiresAtMs: (payload.exp as number) * 1000,
    };
  }
}
