import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { generateKeyPair, importJWK, JWK, SignJWT } from 'jose';
import { v4 as uuidv4 } from 'uuid';
import { ServiceName, SERVICE_NAMES } from '@claimchain/config';
import { Callers, endpointsOf, hostileRequests, HostileRequest, OpenApiDocument } from './hostile-requests';
import { CPT, fhirClaim, newKey, RunningSystem, startSystem } from './system';

/** Fixed, so a failure is the same failure on every run; `HOSTILE_SEED` tries others. */
const SEED = Number(process.env.HOSTILE_SEED ?? 20261204);
/** Requests per endpoint: all four services' ~30 endpoints take a few tens of seconds. */
const RUNS_PER_ENDPOINT = 50;

interface Problem {
  type?: unknown;
  title?: unknown;
  status?: unknown;
  errors?: { pointer?: unknown; detail?: unknown }[];
  code?: unknown;
}

const QUANTITY_ABOVE_ZERO = { fact: 'quantity', operator: 'greaterThan', value: 0 };

/** A contract paying every line whose rule has `condition`, with `parameters` beside the usual ones. */
function contractBody(name: string, condition: unknown = QUANTITY_ABOVE_ZERO, parameters: object = {}) {
  return {
    name,
    version: '1',
    parameters: { coinsurancePercent: 10, excludedCodes: [], ...parameters },
    rules: [{ name: 'pay', conditions: { all: [condition] }, event: { type: 'pay-line' } }],
  };
}

/**
 * Hostile input never reaches a 5xx (issue 12): every HTTP endpoint of the four services, read from their OpenAPI
 * documents, is sent requests that are wrong in some way (wrong types, missing and extra fields, huge and deeply
 * nested bodies, odd unicode, bad headers and tokens, other tenants' ids, malformed URLs), and each must be answered
 * with a 4xx RFC 9457 problem. Then the 500s found before, one by one.
 */
describe('hostile input', () => {
  let system: RunningSystem;
  let callers: Callers;
  const owner = `insurer-${uuidv4().slice(0, 8)}`;
  let ownerAuth: { authorization: string };
  let ids: { claim: string; contract: string; policy: string };

  const post = (service: ServiceName, path: string, body: unknown, headers: Record<string, string>) =>
    fetch(system.url(service, path), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...newKey(), ...headers },
      body: JSON.stringify(body),
    });

  /** A 4xx problem+json whose status is the response's, naming the offending fields when it is a 400 or 422. */
  async function problemOf(res: Response, what: string): Promise<Problem> {
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    let problem: Problem | undefined;
    try {
      problem = JSON.parse(text) as Problem;
    } catch {
      // reported below
    }
    const named =
      ![400, 422].includes(res.status) ||
      (Array.isArray(problem?.errors) &&
        problem.errors.length > 0 &&
        problem.errors.every((e) => typeof e.pointer === 'string'));
    const ok =
      res.status >= 400 &&
      res.status < 500 &&
      type.startsWith('application/problem+json') &&
      typeof problem?.type === 'string' &&
      typeof problem.title === 'string' &&
      problem.status === res.status &&
      named;
    if (!ok) throw new Error(`${what}\n  answered ${res.status} ${type}: ${text.slice(0, 500)}`);
    return problem!;
  }

  async function send(service: ServiceName, r: HostileRequest): Promise<Response> {
    const body = r.body === undefined ? undefined : 'raw' in r.body ? r.body.raw : JSON.stringify(r.body.json);
    return fetch(system.url(service, r.path), { method: r.method, headers: r.headers, body });
  }

  async function forged(claims: Record<string, unknown>, options: { expired?: boolean; untrusted?: boolean } = {}) {
    const jwk = JSON.parse(readFileSync(system.authKeyFile, 'utf8')) as JWK;
    const key = options.untrusted ? (await generateKeyPair('ES256')).privateKey : await importJWK(jwk, 'ES256');
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: jwk.kid })
      .setSubject('hostile')
      .setIssuer('https://auth.claimchain.local')
      .setAudience('claimchain')
      .setIssuedAt(options.expired ? now - 7200 : now)
      .setExpirationTime(options.expired ? now - 3600 : now + 3600)
      .sign(key);
  }

  beforeAll(async () => {
    // The rate limit would answer most of the property's requests with a 429 before they reach anything.
    system = await startSystem({ env: { RATE_LIMIT_PER_SECOND: '100000' } });
    ownerAuth = await system.as('insurer', owner);

    // Another tenant's resources, whose ids the callers below try.
    const claim = await post(
      'claim-intake',
      '/v1/claims',
      fhirClaim(`p-${uuidv4()}`, owner, 'clinic-hostile'),
      ownerAuth,
    );
    expect(claim.status).toBe(202);
    const contract = await post('payout', '/v1/contracts', contractBody('hostile'), ownerAuth);
    expect(contract.status).toBe(201);
    const contractId = ((await contract.json()) as { id: string }).id;
    const policy = await post(
      'payout',
      '/v1/policies',
      { coverageId: 'hostile-coverage', contractId, period: { start: '2026-01-01', end: '2026-12-31' } },
      ownerAuth,
    );
    expect(policy.status).toBe(201);
    ids = {
      claim: ((await claim.json()) as { id: string }).id,
      contract: contractId,
      policy: ((await policy.json()) as { id: string }).id,
    };

    const tenant = `insurer-${uuidv4().slice(0, 8)}`;
    const valid: Record<string, string> = {};
    for (const role of ['insurer', 'provider', 'ops', 'auditor'] as const) {
      valid[role] = (await system.as(role, role === 'insurer' ? tenant : `${role}-hostile`)).authorization;
    }
    const [, payload, signature] = valid.insurer.split('.');
    const otherPayload = Buffer.from(JSON.stringify({ role: 'insurer', tenant: owner, sub: 'x', exp: 9e9 })).toString(
      'base64url',
    );
    const alg = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    callers = {
      valid: (role) => valid[role],
      foreignIds: [ids.claim, ids.contract, ids.policy],
      invalid: {
        none: '',
        'another scheme': 'Basic dXNlcjpwYXNzd29yZA==',
        'no token': 'Bearer ',
        garbage: 'Bearer not.a.jwt',
        huge: `Bearer ${'a'.repeat(8_000)}`,
        'alg none': `Bearer ${alg}.${payload}.`,
        'another tenant’s payload under this signature': `Bearer ${valid.insurer.split('.')[0]}.${otherPayload}.${signature}`,
        'signed by an untrusted key': `Bearer ${await forged({ role: 'insurer', tenant: owner }, { untrusted: true })}`,
        expired: `Bearer ${await forged({ role: 'insurer', tenant: owner }, { expired: true })}`,
        'with an unknown role': `Bearer ${await forged({ role: 'admin', tenant: owner })}`,
        'with a tenant that is not text': `Bearer ${await forged({ role: 'insurer', tenant: { id: owner } })}`,
        'with a NUL in its tenant': `Bearer ${await forged({ role: 'insurer', tenant: 'a\u0000b' })}`,
        'with an 8 KB tenant': `Bearer ${await forged({ role: 'insurer', tenant: 'x'.repeat(8_192) })}`,
        'with a tenant of odd unicode': `Bearer ${await forged({ role: 'insurer', tenant: '\u202eevil\ud800' })}`,
      },
    };
  }, 180_000);

  afterAll(async () => {
    await system?.stop();
  });

  it('can read the resources whose ids the other tenants try (control)', async () => {
    for (const [service, path] of [
      ['claim-intake', `/v1/claims/${ids.claim}`],
      ['payout', `/v1/contracts/${ids.contract}`],
      ['payout', `/v1/policies/${ids.policy}`],
    ] as const) {
      expect({ path, status: (await fetch(system.url(service, path), { headers: ownerAuth })).status }).toEqual({
        path,
        status: 200,
      });
    }
  });

  describe.each(SERVICE_NAMES)('every endpoint of %s', (service) => {
    it('answers every hostile request with a 4xx problem+json, and still serves afterwards', async () => {
      const doc = (await (await fetch(system.url(service, '/docs-json'))).json()) as OpenApiDocument;
      const endpoints = endpointsOf(doc);
      expect(endpoints.length).toBeGreaterThan(0);
      const requests = fc.oneof(
        ...endpoints.map((e) => hostileRequests(e, callers).map((r) => ({ ...r, endpoint: `${e.method} ${e.path}` }))),
      );
      await fc.assert(
        fc.asyncProperty(requests, async (r) => {
          const what = `${r.endpoint} (${r.attack}): ${r.method} ${r.path.slice(0, 200)}`;
          await problemOf(await send(service, r), what);
        }),
        { seed: SEED, numRuns: RUNS_PER_ENDPOINT * endpoints.length },
      );
      expect((await fetch(system.url(service, '/health/ready'))).status).toBe(200);
    }, 300_000);
  });

  describe('what answered 500 before', () => {
    it('refuses a claim whose service code is 8 KB of random text, naming it, and stores the claims sent with it', async () => {
      const bad = fhirClaim(`p-${uuidv4()}`, owner, 'clinic-hostile');
      bad.item[0].productOrService.coding[0].code = randomBytes(6_144).toString('base64');
      const submit = (claim: unknown) => post('claim-intake', '/v1/claims', claim, ownerAuth);
      // Sent together, so that some share the bad claim's group-commit batch.
      const answers = await Promise.all([
        submit(bad),
        ...Array.from({ length: 8 }, () => submit(fhirClaim(`p-${uuidv4()}`, owner, 'clinic-hostile'))),
      ]);
      const problem = await problemOf(answers[0], 'the 8 KB code');
      expect(problem.errors!.map((e) => e.pointer)).toEqual(['/item/0/productOrService/coding/0/code']);
      expect(answers.slice(1).map((a) => a.status)).toEqual(Array(8).fill(202));
    });

    it.each([
      ['payout', '/v1/policies', 'a policy period', '/period/start'],
      ['payout', '/v1/contracts', 'a contract’s validity', '/parameters/validFrom'],
      [
        'payout',
        '/v1/contracts/{contract}/simulate',
        'a simulated claim’s service date',
        '/claim/items/0/servicedDate',
      ],
      ['treatment-verification', '/v1/confirmations', 'a confirmed treatment', '/performed/0/performedAt'],
      ['claim-intake', '/v1/claims', 'a FHIR claim’s service date', '/item/0/servicedDate'],
    ] as const)('refuses 2026-02-30 in %s %s (%s) with a 400 naming it', async (service, path, _what, pointer) => {
      const day = '2026-02-30';
      const bodies: Record<string, unknown> = {
        '/v1/policies': { coverageId: 'c-1', contractId: ids.contract, period: { start: day, end: '2026-12-31' } },
        '/v1/contracts': contractBody('dated', QUANTITY_ABOVE_ZERO, { validFrom: day }),
        '/v1/contracts/{contract}/simulate': {
          claim: {
            providerId: 'clinic-hostile',
            currency: 'EUR',
            items: [
              {
                system: CPT,
                code: '99213',
                sequence: 1,
                servicedDate: day,
                quantity: 1,
                unitPrice: '10.00',
                net: '10.00',
              },
            ],
          },
        },
        '/v1/confirmations': {
          claimId: ids.claim,
          performed: [{ system: CPT, code: '99213', quantity: 1, performedAt: day }],
        },
        '/v1/claims': (() => {
          const claim = fhirClaim(`p-${uuidv4()}`, owner, 'clinic-hostile');
          claim.item[0].servicedDate = day;
          return claim;
        })(),
      };
      const auth = service === 'treatment-verification' ? await system.as('provider', 'clinic-hostile') : ownerAuth;
      const res = await post(service, path.replace('{contract}', ids.contract), bodies[path], auth);
      expect(res.status).toBe(400);
      const problem = await problemOf(res, `${day} at ${pointer}`);
      expect(problem.errors!.map((e) => e.pointer)).toContain(pointer);
    });

    it('refuses a date that does not exist in a query, naming it', async () => {
      const res = await fetch(system.url('claim-intake', '/v1/claims?submittedFrom=2026-02-30T00:00:00Z'), {
        headers: ownerAuth,
      });
      expect(res.status).toBe(400);
      expect((await problemOf(res, 'submittedFrom')).errors!.map((e) => e.pointer)).toEqual(['/submittedFrom']);
    });

    it('refuses contract conditions nested 1,500 deep with a 400 naming where', async () => {
      let condition: unknown = QUANTITY_ABOVE_ZERO;
      for (let i = 0; i < 1_500; i += 1) condition = { not: condition };
      const res = await post('payout', '/v1/contracts', contractBody('deep', condition), ownerAuth);
      expect(res.status).toBe(400);
      const problem = await problemOf(res, 'deep conditions');
      expect(problem.code).toBe('REQUEST.TOO_DEEP');
      expect(problem.errors![0].pointer).toMatch(/^\/rules\/0\/conditions\/all\/0(\/not)+$/);
    });

    it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'missing.js'])(
      'answers GET /docs/assets/%s with a 404 problem',
      async (name) => {
        const res = await fetch(system.url('payout', `/docs/assets/${name}`));
        expect(res.status).toBe(404);
        await problemOf(res, name);
      },
    );

    it.each([
      ['a bad percent-escape', '/claims/%E0%A4%A', 400],
      ['a bad percent-escape in a route', '/v1/claims/%E0%A4%A', 400],
      ['a path parameter over the router’s limit', `/v1/claims/${'a'.repeat(200)}`, 414],
      ['a path over the 16 KiB header limit', `/v1/claims/${'a'.repeat(20_000)}`, 431],
    ])('answers a URL with %s with a problem', async (_what, path, status) => {
      const res = await fetch(system.url('claim-intake', path), { headers: ownerAuth });
      expect(res.status).toBe(status);
      await problemOf(res, path.slice(0, 80));
    });
  });
});
