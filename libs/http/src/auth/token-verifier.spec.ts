import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@claimchain/testing';
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

  describe('a key removed from the JWKS', () => {
    /** A second identity provider key pair in `dir`: its JWKS file, private key and a token it signed. */
    async function rotatedKeys(name: string) {
      const sub = mkdtempSync(join(dir, name));
      await ensureDevKeys(join(sub, 'key.jwk'), join(sub, 'jwks.json'));
      const token = await signDevToken(join(sub, 'key.jwk'), { role: 'insurer', tenant: 'i-1' });
      return { jwks: readFileSync(join(sub, 'jwks.json'), 'utf8'), token };
    }

    it('stops verifying its tokens once the JWKS file no longer has it (within the refresh interval)', async () => {
      const file = join(dir, 'rotating-jwks.json');
      const old = await rotatedKeys('old');
      writeFileSync(file, old.jwks);
      const rotating = new TokenVerifier({ jwksFile: file, issuer: DEV_AUTH_ISSUER, audience: DEV_AUTH_AUDIENCE });
      await rotating.verify(old.token);
      writeFileSync(file, (await rotatedKeys('new')).jwks);
      // Still trusted within the refresh interval (no JWKS read per request), refused after it.
      await rotating.verify(old.token);
      jest.useFakeTimers({ now: Date.now() + 61_000, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
      try {
        await expect(rotating.verify(old.token)).rejects.toThrow(TokenRejectedError);
      } finally {
        jest.useRealTimers();
      }
    });

    it('stops verifying its tokens once the JWKS URL no longer serves it', async () => {
      const old = await rotatedKeys('remote-old');
      let served = old.jwks;
      const server = createServer((_req, res) => res.setHeader('content-type', 'application/json').end(served));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const rotating = new TokenVerifier({
          jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`,
          issuer: DEV_AUTH_ISSUER,
          audience: DEV_AUTH_AUDIENCE,
          keyRefreshMs: 200,
        });
        await rotating.verify(old.token);
        served = (await rotatedKeys('remote-new')).jwks;
        await waitFor('the removed key to stop verifying', () =>
          rotating.verify(old.token).then(
            () => false,
            (error: unknown) => error instanceof TokenRejectedError,
          ),
        );
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
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
