import { SignJWT, importJWK, JWK } from 'jose';
import { readFileSync } from 'node:fs';
import { ServiceName } from '@claimchain/config';
import { Role } from '@claimchain/http';
import { waitFor } from '@claimchain/testing';
import { CPT, fhirClaim, fhirClaimTreatments, newKey, RunningSystem, startSystem } from './system';

type Caller = 'none' | 'garbage' | `${Role}:${string}`;

interface Case {
  name: string;
  service: ServiceName;
  method: 'GET' | 'POST';
  path: () => string;
  body?: () => unknown;
  /** Expected status per caller; callers not listed must get 403 (role) or 401 (no/bad token). */
  allowed: Partial<Record<Caller, number>>;
}

const ROLE_CALLERS: Caller[] = [
  'insurer:insurer-a',
  'insurer:insurer-b',
  'provider:clinic-a',
  'provider:clinic-b',
  'ops:ops-1',
  'auditor:audit-1',
];

/**
 * The whole matrix of role × endpoint × tenant: every endpoint declares its roles, another tenant's resource is a
 * 404 (never a 403 that would confirm it exists), and a missing or bad token is a 401 problem.
 */
describe('authorization matrix', () => {
  let system: RunningSystem;
  let claimId: string;
  let openClaimId: string;
  let confirmationLocation: string;

  const call = async (c: Case, caller: Caller) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...newKey() };
    if (caller === 'garbage') headers.authorization = 'Bearer not.a.jwt';
    else if (caller !== 'none') {
      const [role, tenant] = caller.split(':') as [Role, string];
      Object.assign(headers, await system.as(role, tenant));
    }
    const res = await fetch(system.url(c.service, c.path()), {
      method: c.method,
      headers,
      body: c.body ? JSON.stringify(c.body()) : undefined,
    });
    return res;
  };

  beforeAll(async () => {
    system = await startSystem();
    const insurerA = await system.as('insurer', 'insurer-a');
    const submitted = await fetch(system.url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...insurerA, ...newKey() },
      body: JSON.stringify(fhirClaim('p-matrix', 'insurer-a', 'clinic-a')),
    });
    expect(submitted.status).toBe(202);
    claimId = ((await submitted.json()) as { id: string }).id;
    const open = await fetch(system.url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...insurerA, ...newKey() },
      body: JSON.stringify(fhirClaim('p-matrix-open', 'insurer-a', 'clinic-a')),
    });
    openClaimId = ((await open.json()) as { id: string }).id;
    const clinicA = await system.as('provider', 'clinic-a');
    // clinic-a confirms its claim (pending first if the claim is still on its way), and it is verified.
    const res = await fetch(system.url('treatment-verification', '/v1/confirmations'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...clinicA, ...newKey() },
      body: JSON.stringify({
        claimId,
        performed: fhirClaimTreatments(),
      }),
    });
    expect([201, 202]).toContain(res.status);
    confirmationLocation = res.headers.get('location')!;
    await waitFor('the confirmation to be verified', async () => {
      const body = (await (
        await fetch(system.url('treatment-verification', confirmationLocation), { headers: clinicA })
      ).json()) as { outcome: string };
      return body.outcome === 'verified';
    });
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
  });

  const cases: Case[] = [
    {
      name: 'submit a claim',
      service: 'claim-intake',
      method: 'POST',
      path: () => '/v1/claims',
      body: () => fhirClaim('p-x', 'insurer-a', 'clinic-a'),
      allowed: { 'insurer:insurer-a': 202, 'insurer:insurer-b': 422 },
    },
    {
      name: 'read a claim',
      service: 'claim-intake',
      method: 'GET',
      path: () => `/v1/claims/${claimId}`,
      allowed: { 'insurer:insurer-a': 200, 'insurer:insurer-b': 404 },
    },
    {
      name: 'list claims',
      service: 'claim-intake',
      method: 'GET',
      path: () => '/v1/claims',
      allowed: { 'insurer:insurer-a': 200, 'insurer:insurer-b': 200 },
    },
    {
      name: 'cancel a claim',
      service: 'claim-intake',
      method: 'POST',
      path: () => `/v1/claims/${openClaimId}/cancel`,
      body: () => ({ reason: 'matrix' }),
      allowed: { 'insurer:insurer-a': 202, 'insurer:insurer-b': 404 },
    },
    {
      name: 'confirm a treatment',
      service: 'treatment-verification',
      method: 'POST',
      path: () => '/v1/confirmations',
      body: () => ({ claimId, performed: [{ system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-20' }] }),
      // Another provider is answered as for a claim not yet here (202 pending): a 404 would say the claim exists.
      allowed: { 'provider:clinic-a': 409, 'provider:clinic-b': 202 },
    },
    {
      name: 'read a confirmation',
      service: 'treatment-verification',
      method: 'GET',
      path: () => confirmationLocation,
      allowed: { 'provider:clinic-a': 200, 'provider:clinic-b': 404 },
    },
    {
      name: 'list confirmations',
      service: 'treatment-verification',
      method: 'GET',
      path: () => '/v1/confirmations',
      allowed: { 'provider:clinic-a': 200, 'provider:clinic-b': 200 },
    },
    {
      name: 'read the worklist',
      service: 'treatment-verification',
      method: 'GET',
      path: () => '/v1/worklist',
      allowed: { 'provider:clinic-a': 200, 'provider:clinic-b': 200 },
    },
    {
      name: 'register a provider key',
      service: 'treatment-verification',
      method: 'POST',
      path: () => '/v1/provider-keys',
      // RFC 8037's example Ed25519 public key.
      body: () => ({
        providerId: 'clinic-a',
        publicKeyJwk: { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' },
      }),
      allowed: { 'ops:ops-1': 201 },
    },
    {
      name: 'list a provider’s keys',
      service: 'treatment-verification',
      method: 'GET',
      path: () => '/v1/provider-keys?providerId=clinic-a',
      allowed: { 'ops:ops-1': 200 },
    },
  ];

  for (const c of cases) {
    describe(c.name, () => {
      it.each(ROLE_CALLERS)(`answers %s as the matrix says`, async (caller) => {
        const res = await call(c, caller);
        expect(res.status).toBe(c.allowed[caller] ?? 403);
        if (res.status >= 400) expect(res.headers.get('content-type')).toContain('application/problem+json');
      });

      it.each(['none', 'garbage'] as Caller[])(
        'refuses a request with %s token as 401 problem+json',
        async (caller) => {
          const res = await call(c, caller);
          expect(res.status).toBe(401);
          expect(res.headers.get('www-authenticate')).toBe('Bearer');
          expect(((await res.json()) as { code: string }).code).toMatch(/^AUTH\.TOKEN_(MISSING|INVALID)$/);
        },
      );
    });
  }

  it.each([
    ['ledger-anchoring', '/v1/ledger/checkpoint'],
    ['ledger-anchoring', '/v1/ledger/public-key'],
    ['claim-intake', '/health/ready'],
    ['treatment-verification', '/health/pipeline'],
    ['payout', '/health/live'],
  ] as [ServiceName, string][])('serves %s %s without a token', async (service, path) => {
    const res = await fetch(system.url(service, path));
    expect(res.status).toBe(200);
  });

  describe('token checks', () => {
    const forge = async (
      claims: Record<string, unknown>,
      opts: { expired?: boolean; audience?: string; issuer?: string },
    ) => {
      const jwk = JSON.parse(readFileSync(system.authKeyFile, 'utf8')) as JWK;
      const jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: jwk.kid })
        .setSubject('x')
        .setIssuer(opts.issuer ?? 'https://auth.claimchain.local')
        .setAudience(opts.audience ?? 'claimchain')
        .setIssuedAt(opts.expired ? Math.floor(Date.now() / 1000) - 7200 : undefined)
        .setExpirationTime(opts.expired ? Math.floor(Date.now() / 1000) - 3600 : '1h');
      return jwt.sign(await importJWK(jwk, 'ES256'));
    };
    const read = (token: string) =>
      fetch(system.url('claim-intake', `/v1/claims/${claimId}`), { headers: { authorization: `Bearer ${token}` } });

    it('accepts a well-formed token (control)', async () => {
      expect((await read(await forge({ role: 'insurer', tenant: 'insurer-a' }, {}))).status).toBe(200);
    });

    it.each([
      ['expired', { role: 'insurer', tenant: 'insurer-a' }, { expired: true }],
      ['for another audience', { role: 'insurer', tenant: 'insurer-a' }, { audience: 'someone-else' }],
      ['from another issuer', { role: 'insurer', tenant: 'insurer-a' }, { issuer: 'https://evil.example' }],
      ['with an unknown role', { role: 'admin', tenant: 'insurer-a' }, {}],
      ['without a tenant', { role: 'insurer' }, {}],
    ] as [string, Record<string, unknown>, { expired?: boolean; audience?: string; issuer?: string }][])(
      'refuses a token %s with 401',
      async (_what, claims, opts) => {
        const res = await read(await forge(claims, opts));
        expect(res.status).toBe(401);
      },
    );

    it('refuses a token signed by a key the service does not trust', async () => {
      const { generateKeyPair } = await import('jose');
      const { privateKey } = await generateKeyPair('ES256');
      const token = await new SignJWT({ role: 'insurer', tenant: 'insurer-a' })
        .setProtectedHeader({ alg: 'ES256', kid: 'claimchain-dev-1' })
        .setSubject('x')
        .setIssuer('https://auth.claimchain.local')
        .setAudience('claimchain')
        .setExpirationTime('1h')
        .sign(privateKey);
      expect((await read(token)).status).toBe(401);
    });
  });
});
