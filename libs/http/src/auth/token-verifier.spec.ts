import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_AUTH_AUDIENCE, DEV_AUTH_ISSUER } from '@claimchain/config';
import { ensureDevKeys, signDevToken } from './dev-tokens';
import { TokenRejectedError, TokenVerifier } from './token-verifier';

describe(TokenVerifier.name, () => {
  const dir = mkdtempSync(join(tmpdir(), 'token-verifier-'));
  const keyFile = join(dir, 'key.jwk');
  let verifier: TokenVerifier;

  beforeAll(async () => {
    await ensureDevKeys(keyFile, join(dir, 'jwks.json'));
    verifier = new TokenVerifier({
      jwksFile: join(dir, 'jwks.json'),
      issuer: DEV_AUTH_ISSUER,
      audience: DEV_AUTH_AUDIENCE,
    });
  });

  it('turns a valid token into its principal, the same on a repeat (cached) verification', async () => {
    const token = await signDevToken(keyFile, { role: 'provider', tenant: 'clinic-1', subject: 'u-1' });
    const expected = { subject: 'u-1', role: 'provider', tenant: 'clinic-1' };
    expect(await verifier.verify(token)).toEqual(expected);
    expect(await verifier.verify(token)).toEqual(expected);
  });

  it('does not keep accepting a cached token once it has expired', async () => {
    const token = await signDevToken(keyFile, { role: 'insurer', tenant: 'i-1', expiresIn: '2s' });
    await verifier.verify(token);
    jest.useFakeTimers({ now: Date.now() + 3_000, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      await expect(verifier.verify(token)).rejects.toBeInstanceOf(TokenRejectedError);
    } finally {
      jest.useRealTimers();
    }
  });

  it('rejects a token whose signature was tampered with', async () => {
    const token = await signDevToken(keyFile, { role: 'insurer', tenant: 'i-1' });
    const [h, p, sig] = token.split('.');
    const flipped = `${h}.${p}.${sig.slice(0, -2)}${sig.endsWith('A') ? 'B' : 'A'}${sig.slice(-1)}`;
    await expect(verifier.verify(flipped)).rejects.toBeInstanceOf(TokenRejectedError);
  });

  it.each([
    ['an 8 KB tenant', 'x'.repeat(8_192)],
    ['a NUL in the tenant', 'a\u0000b'],
    ['a tenant with a slash', 'acme/../other'],
    ['a tenant of odd unicode', '\u202eevil'],
  ])('rejects a trusted token with %s, which no FHIR Organization id can be', async (_case, tenant) => {
    const token = await signDevToken(keyFile, { role: 'insurer', tenant });
    await expect(verifier.verify(token)).rejects.toThrow(/claim "tenant" must be 1-64 of/);
  });
});
