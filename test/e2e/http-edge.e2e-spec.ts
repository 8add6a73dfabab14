import { RunningSystem, newKey, startSystem } from './system';

/** What every service's HTTP edge promises, checked on claim-intake: OpenAPI, security headers, rate limits. */
describe('HTTP edge', () => {
  let system: RunningSystem;

  beforeAll(async () => {
    system = await startSystem({ services: ['claim-intake'], env: { RATE_LIMIT_PER_SECOND: '5' } });
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
  });

  it('publishes an OpenAPI 3 document generated from the controllers and their request schemas', async () => {
    const res = await fetch(system.url('claim-intake', '/docs-json'));
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/claims', '/v1/claims/{id}', '/v1/claims/{id}/cancel']),
    );
    const body = doc.paths['/v1/claims'].post.requestBody!.content['application/json'].schema as {
      required: string[];
    };
    expect(body.required).toEqual(expect.arrayContaining(['resourceType', 'status', 'use', 'patient', 'provider']));
    expect((await fetch(system.url('claim-intake', '/docs'))).status).toBe(200);
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
