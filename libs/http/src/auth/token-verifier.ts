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
}

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
 * Principal. One instance per service; the remote JWKS is cached and refreshed by jose.
 */
export class TokenVerifier {
  private readonly keys: JWTVerifyGetKey;
  /**
   * Verified tokens until they expire: an ES256 verification costs ~0.2 ms of CPU (about 5,400/s on one core here),
   * which would dominate the claim intake hot path. Bounded; the oldest entries go first.
   */
  private readonly verified = new Map<string, { principal: Principal; expiresAtMs: number }>();
  private static readonly CACHE_SIZE = 10_000;

  constructor(private readonly config: AuthConfig) {
    if (config.jwksUrl) this.keys = createRemoteJWKSet(new URL(config.jwksUrl));
    else if (config.jwksFile) {
      this.keys = createLocalJWKSet(JSON.parse(readFileSync(config.jwksFile, 'utf8')) as JSONWebKeySet);
    } else {
      throw new Error('authentication needs AUTH_JWKS_URL or AUTH_JWKS_FILE (npm start writes .cache/auth/jwks.json)');
    }
  }

  async verify(token: string): Promise<Principal> {
    const cached = this.verified.get(token);
    if (cached && cached.expiresAtMs > Date.now()) return cached.principal;
    if (cached) this.verified.delete(token);
    const { principal, expiresAtMs } = await this.verifyUncached(token);
    if (this.verified.size >= TokenVerifier.CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { principal, expiresAtMs });
    return principal;
  }

  private async verifyUncached(token: string): Promise<{ principal: Principal; expiresAtMs: number }> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
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
