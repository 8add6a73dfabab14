import { ServiceName } from '@claimchain/config';
import { v4 as uuidv4 } from 'uuid';
import { RunningSystem, fhirClaim, newKey, startSystem } from './system';

interface OpenApiParameter {
  name: string;
  in: string;
  required?: boolean;
  schema: { type?: string; format?: string; pattern?: string; anyOf?: { pattern?: string }[] };
}
interface OpenApiOperation {
  security?: Record<string, string[]>[];
  parameters?: OpenApiParameter[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
}

/**
 * What every service's HTTP edge promises, checked on claim-intake: OpenAPI, security headers, rate limits, bodies
 * Postgres can store; and
 * OpenAPI on ledger-anchoring, whose public read API is the one anyone may call without a token.
 */
describe('HTTP edge', () => {
  let system: RunningSystem;

  beforeAll(async () => {
    system = await startSystem({
      services: ['claim-intake', 'ledger-anchoring'],
      // The test client reaches the services through loopback, which stands in for the ingress proxy here.
      env: { RATE_LIMIT_PER_SECOND: '5', TRUST_PROXY: '127.0.0.1' },
    });
  }, 120_000);

  async function openApi(service: ServiceName): Promise<OpenApiDocument> {
    const res = await fetch(system.url(service, '/docs-json'));
    expect(res.status).toBe(200);
    const doc = (await res.json()) as OpenApiDocument;
    expect(doc.openapi).toMatch(/^3\./);
    return doc;
  }

  const parameters = (op: OpenApiOperation) =>
    Object.fromEntries((op.parameters ?? []).map((p) => [`${p.in} ${p.name}`, p.required ?? false]));

  afterAll(async () => {
    await system?.stop();
  });

  it('publishes an OpenAPI 3 document generated from the controllers and their request schemas', async () => {
    const doc = await openApi('claim-intake');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/claims', '/v1/claims/{id}', '/v1/claims/{id}/cancel']),
    );
    const body = doc.paths['/v1/claims'].post.requestBody!.content['application/json'].schema as {
      required: string[];
    };
    expect(body.required).toEqual(expect.arrayContaining(['resourceType', 'status', 'use', 'patient', 'provider']));
    expect((await fetch(system.url('claim-intake', '/docs'))).status).toBe(200);
    expect(doc.paths['/v1/claims'].get.security).toEqual([{ bearer: [] }]);
  });

  it('documents every endpoint of the ledger read API as public, with its parameters, answers and problems', async () => {
    const { paths } = await openApi('ledger-anchoring');
    const ledger = Object.keys(paths).filter((p) => p.startsWith('/v1/ledger/'));
    expect(ledger.sort()).toEqual([
      '/v1/ledger/checkpoint',
      '/v1/ledger/entries',
      '/v1/ledger/events/{eventId}/receipt',
      '/v1/ledger/proofs/consistency',
      '/v1/ledger/proofs/inclusion',
      '/v1/ledger/public-key',
    ]);
    for (const path of ledger) expect({ path, security: paths[path].get.security }).toEqual({ path, security: [] });

    expect(parameters(paths['/v1/ledger/entries'].get)).toEqual({ 'query start': true, 'query end': true });
    expect(parameters(paths['/v1/ledger/proofs/inclusion'].get)).toEqual({
      'query index': false,
      'query leafHash': false,
      'query treeSize': false,
    });
    expect(parameters(paths['/v1/ledger/proofs/consistency'].get)).toEqual({ 'query from': true, 'query to': true });
    expect(parameters(paths['/v1/ledger/events/{eventId}/receipt'].get)).toEqual({ 'path eventId': true });
    const start = paths['/v1/ledger/entries'].get.parameters!.find((p) => p.name === 'start')!;
    expect(start.schema).toMatchObject({ type: 'string', pattern: '^(0|[1-9][0-9]{0,15})$' });
    // An optional parameter is `required: false` with the schema of its value, not an anyOf with `not: {}`.
    const index = paths['/v1/ledger/proofs/inclusion'].get.parameters!.find((p) => p.name === 'index')!;
    expect(index.schema).toMatchObject({ type: 'string', pattern: '^(0|[1-9][0-9]{0,15})$' });
    expect(index.schema.anyOf).toBeUndefined();
    const eventId = paths['/v1/ledger/events/{eventId}/receipt'].get.parameters![0];
    expect(eventId.schema).toMatchObject({ type: 'string', format: 'uuid' });

    const checkpoint = paths['/v1/ledger/checkpoint'].get.responses;
    expect(Object.keys(checkpoint['200'].content!).sort()).toEqual(['application/json', 'text/plain']);
    expect(Object.keys(checkpoint['200'].content!['application/json'].schema.properties!)).toEqual([
      'origin',
      'treeSize',
      'rootHash',
      'note',
    ]);
    expect(Object.keys(paths['/v1/ledger/public-key'].get.responses['200'].content!)).toEqual(['text/plain']);
    const inclusion = paths['/v1/ledger/proofs/inclusion'].get.responses;
    expect(Object.keys(inclusion['200'].content!['application/json'].schema.properties!)).toEqual([
      'leafIndex',
      'treeSize',
      'leafHash',
      'hashes',
    ]);
    for (const status of ['400', '404', '422']) {
      expect(inclusion[status].content!['application/problem+json'].schema.properties).toHaveProperty('code');
    }
  });

  it('sends security headers', async () => {
    const res = await fetch(system.url('claim-intake', '/health/live'));
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('strict-transport-security')).toContain('max-age');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
  });

  it('limits each principal’s request rate with a 429 problem and Retry-After, without touching others', async () => {
    const busy = await system.as('insurer', 'busy-insurer');
    const calm = await system.as('insurer', 'calm-insurer');
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 12 && !limited; i += 1) {
      const res = await fetch(system.url('claim-intake', '/v1/claims'), { headers: busy });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(limited).toBeDefined();
    expect(limited!.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await fetch(system.url('claim-intake', '/v1/claims'), { headers: calm })).status).toBe(200);
  });

  it('limits requests with invalid tokens by client address, each client behind the trusted proxy apart', async () => {
    const fromClient = (address: string) =>
      fetch(system.url('claim-intake', '/v1/claims'), {
        headers: { authorization: 'Bearer not.a.valid-token', 'x-forwarded-for': address },
      });
    const statuses: number[] = [];
    for (let i = 0; i < 12 && !statuses.includes(429); i += 1) statuses.push((await fromClient('203.0.113.7')).status);
    // Guessing tokens is throttled like any other traffic (it used to get an unlimited stream of 401s).
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s !== 429).every((s) => s === 401)).toBe(true);
    // Another client behind the same ingress has a bucket of its own.
    expect((await fromClient('203.0.113.8')).status).toBe(401);
  });

  it('refuses a JSON string holding U+0000 with 400 problem+json naming it, on any endpoint', async () => {
    const tenant = `insurer-${uuidv4().slice(0, 8)}`;
    const insurer = await system.as('insurer', tenant);
    const submitted = await fetch(system.url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', ...insurer, ...newKey() },
      body: JSON.stringify(fhirClaim(`p-${uuidv4()}`, tenant, 'clinic-edge')),
    });
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.json()) as { id: string };

    const res = await fetch(system.url('claim-intake', `/v1/claims/${id}/cancel`), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...insurer },
      body: JSON.stringify({ reason: 'wrong\u0000coverage' }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await res.json()) as { code: string; errors: { pointer: string }[] };
    expect(problem.code).toBe('REQUEST.UNSTORABLE_TEXT');
    expect(problem.errors.map((e) => e.pointer)).toEqual(['/reason']);
  });

  it('refuses a body over the size limit with 413 problem+json', async () => {
    const res = await fetch(system.url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await system.as('insurer', 'big')), ...newKey() },
      body: JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });
});
