import { addressKind, addressProblem } from './webhook-address';

describe(addressKind.name, () => {
  it('classifies loopback, internal and public addresses, IPv4-mapped IPv6 as its IPv4 address', () => {
    const kinds = Object.fromEntries(
      [
        '127.0.0.1',
        '127.255.0.9',
        '::1',
        '::ffff:7f00:1',
        '10.0.0.1',
        '172.16.5.4',
        '192.168.0.1',
        '169.254.169.254',
        '100.64.0.1',
        'fc00::1',
        'fe80::1',
        '::ffff:192.168.0.1',
        '8.8.8.8',
        '2606:4700::1111',
      ].map((ip) => [ip, addressKind(ip)]),
    );
    expect(kinds).toEqual({
      '127.0.0.1': 'loopback',
      '127.255.0.9': 'loopback',
      '::1': 'loopback',
      '::ffff:7f00:1': 'loopback',
      '10.0.0.1': 'private',
      '172.16.5.4': 'private',
      '192.168.0.1': 'private',
      '169.254.169.254': 'private',
      '100.64.0.1': 'private',
      'fc00::1': 'private',
      'fe80::1': 'private',
      '::ffff:192.168.0.1': 'private',
      '8.8.8.8': 'public',
      '2606:4700::1111': 'public',
    });
  });
});

describe(addressProblem.name, () => {
  it('allows loopback only when told to, and internal addresses never', () => {
    expect(addressProblem('127.0.0.1', true)).toBeUndefined();
    expect(addressProblem('127.0.0.1', false)).toBe('a loopback address');
    expect(addressProblem('10.0.0.1', true)).toBe('a private, link-local or reserved address');
    expect(addressProblem('8.8.8.8', false)).toBeUndefined();
  });
});
