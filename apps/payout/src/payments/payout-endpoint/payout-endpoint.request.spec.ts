import { isLoopbackHost, payoutEndpointRequest } from './payout-endpoint.request';

const DEV = { allowHttp: false, allowLoopback: true };
const PRODUCTION = { allowHttp: false, allowLoopback: false };
const CLOSED_NETWORK = { allowHttp: true, allowLoopback: true };

const issues = (policy: typeof DEV, url: unknown) => {
  const r = payoutEndpointRequest(policy).safeParse({ url });
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('/')}: ${i.message}`);
};

describe(payoutEndpointRequest.name, () => {
  it('accepts https anywhere and, where loopback is allowed, http to loopback', () => {
    expect(issues(PRODUCTION, 'https://pay.acme.example/claimchain/payouts')).toEqual([]);
    expect(issues(PRODUCTION, 'https://93.184.216.34/hook')).toEqual([]);
    expect(issues(DEV, 'http://127.0.0.1:8080/hook')).toEqual([]);
    expect(issues(DEV, 'http://localhost/hook')).toEqual([]);
    expect(issues(DEV, 'http://[::1]:9000/hook')).toEqual([]);
  });

  it('refuses plain http beyond loopback unless allowed', () => {
    expect(issues(DEV, 'http://pay.acme.example/hook')).toEqual([
      'url: must be https (plain http only to a loopback host)',
    ]);
    expect(issues(DEV, 'http://127.evil.example/hook')).toHaveLength(1);
    expect(issues(CLOSED_NETWORK, 'http://pay.acme.example/hook')).toEqual([]);
  });

  it('refuses loopback, over https too, where it is not allowed', () => {
    for (const url of [
      'https://127.0.0.1/hook',
      'https://localhost:8443/hook',
      'https://[::1]/hook',
      'https://0x7f.1/x',
    ]) {
      expect(issues(PRODUCTION, url)).toEqual(['url: must not point to a loopback address']);
    }
    expect(issues(PRODUCTION, 'http://127.0.0.1:8080/hook')).toEqual([
      'url: must be https (plain http only to a loopback host)',
    ]);
  });

  it('refuses private, link-local and metadata addresses whatever the dev allowances say', () => {
    const internal = [
      'https://10.1.2.3/hook',
      'https://172.16.0.1/hook',
      'https://172.31.255.255/hook',
      'https://192.168.1.10/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://0.0.0.0/hook',
      'https://[fc00::1]/hook',
      'https://[fd12:3456::1]/hook',
      'https://[fe80::1]/hook',
      'https://[::ffff:10.0.0.1]/hook',
      'https://[::ffff:169.254.169.254]/hook',
    ];
    for (const url of internal) {
      expect({ url, issues: issues(CLOSED_NETWORK, url) }).toEqual({
        url,
        issues: ['url: must not point to a private, link-local or reserved address'],
      });
    }
    // Neighbours of the private ranges are public.
    expect(issues(PRODUCTION, 'https://172.32.0.1/hook')).toEqual([]);
    expect(issues(PRODUCTION, 'https://11.0.0.1/hook')).toEqual([]);
  });

  it('refuses other schemes, credentials, fragments, non-URLs and unknown fields', () => {
    expect(issues(CLOSED_NETWORK, 'ftp://pay.acme.example/hook')).toEqual(['url: must be an https URL']);
    expect(issues(DEV, 'https://user:pw@pay.acme.example/hook')).toEqual(['url: must not carry credentials']);
    expect(issues(DEV, 'https://pay.acme.example/hook#x')).toEqual(['url: must not have a fragment']);
    expect(issues(DEV, 'not a url')).toEqual(['url: Invalid url']);
    expect(issues(DEV, undefined)).toEqual(['url: Required']);
    expect(payoutEndpointRequest(DEV).safeParse({ url: 'https://a.example', secret: 'x' }).success).toBe(false);
  });
});

describe(isLoopbackHost.name, () => {
  it('knows loopback addresses from names that merely start like them', () => {
    expect(['127.0.0.1', '127.1.2.3', 'localhost', '[::1]', 'api.localhost'].map(isLoopbackHost)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(['127.example.com', '10.0.0.1', 'example.com'].map(isLoopbackHost)).toEqual([false, false, false]);
  });
});
