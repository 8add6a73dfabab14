import { isLoopbackHost, payoutEndpointRequest } from './payout-endpoint.request';

const issues = (allowHttp: boolean, url: unknown) => {
  const r = payoutEndpointRequest(allowHttp).safeParse({ url });
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('/')}: ${i.message}`);
};

describe(payoutEndpointRequest.name, () => {
  it('accepts https anywhere and http to loopback', () => {
    expect(issues(false, 'https://pay.acme.example/claimchain/payouts')).toEqual([]);
    expect(issues(false, 'http://127.0.0.1:8080/hook')).toEqual([]);
    expect(issues(false, 'http://localhost/hook')).toEqual([]);
    expect(issues(false, 'http://[::1]:9000/hook')).toEqual([]);
  });

  it('refuses plain http beyond loopback unless allowed', () => {
    expect(issues(false, 'http://pay.acme.example/hook')).toEqual([
      'url: must be https (plain http only to a loopback host)',
    ]);
    expect(issues(false, 'http://127.evil.example/hook')).toHaveLength(1);
    expect(issues(true, 'http://pay.acme.example/hook')).toEqual([]);
  });

  it('refuses other schemes, credentials, fragments, non-URLs and unknown fields', () => {
    expect(issues(true, 'ftp://pay.acme.example/hook')).toEqual(['url: must be an https URL']);
    expect(issues(false, 'https://user:pw@pay.acme.example/hook')).toEqual(['url: must not carry credentials']);
    expect(issues(false, 'https://pay.acme.example/hook#x')).toEqual(['url: must not have a fragment']);
    expect(issues(false, 'not a url')).toEqual(['url: Invalid url']);
    expect(issues(false, undefined)).toEqual(['url: Required']);
    expect(payoutEndpointRequest(false).safeParse({ url: 'https://a.example', secret: 'x' }).success).toBe(false);
  });
});

describe(isLoopbackHost.name, () => {
  it('knows loopback addresses from names that merely start like them', () => {
    expect(['127.0.0.1', '127.1.2.3', 'localhost', '[::1]'].map(isLoopbackHost)).toEqual([true, true, true, true]);
    expect(['127.example.com', '10.0.0.1', 'example.com'].map(isLoopbackHost)).toEqual([false, false, false]);
  });
});
