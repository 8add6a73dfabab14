import { generateKeyPairSync } from 'node:crypto';
import {
  attestationHash,
  ed25519KeyId,
  Ed25519PublicJwk,
  signTreatmentStatement,
  treatmentStatement,
  verifyTreatmentStatement,
} from './treatment-attestation';

const CPT = 'http://www.ama-assn.org/go/cpt';

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' }) as Ed25519PublicJwk;
  return { privateKey, jwk, keyId: ed25519KeyId(jwk) };
}

const statement = (overrides: Partial<Parameters<typeof treatmentStatement>[0]> = {}) =>
  treatmentStatement({
    claimId: '0193a0c4-1f00-7000-8000-000000000001',
    providerId: 'city-clinic',
    performed: [{ system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-20' }],
    signedAt: '2026-11-20T10:00:00Z',
    ...overrides,
  });

describe('treatment attestation', () => {
  it('identifies a key by its RFC 7638 thumbprint (RFC 8037 appendix A.3)', () => {
    expect(ed25519KeyId({ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' })).toBe(
      'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k',
    );
  });

  it('verifies a statement signed with the key, whatever the order of its fields', () => {
    const { privateKey, jwk, keyId } = keyPair();
    const signed = signTreatmentStatement(privateKey, keyId, statement());
    const reversed = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).reverse()) as T;
    const reordered = reversed({ ...statement(), performed: statement().performed.map(reversed) });
    expect(Object.keys(reordered)[0]).toBe('signedAt');
    expect(verifyTreatmentStatement(jwk, reordered, signed.signature)).toBe(true);
  });

  it.each([
    ['another claim', { claimId: '0193a0c4-1f00-7000-8000-000000000002' }],
    ['another provider', { providerId: 'other-clinic' }],
    ['a changed quantity', { performed: [{ system: CPT, code: '99213', quantity: 2, performedAt: '2026-11-20' }] }],
    ['another signing time', { signedAt: '2026-11-21T10:00:00Z' }],
  ])('refuses the signature over %s', (_what, altered) => {
    const { privateKey, jwk, keyId } = keyPair();
    const signed = signTreatmentStatement(privateKey, keyId, statement());
    expect(verifyTreatmentStatement(jwk, statement(altered), signed.signature)).toBe(false);
  });

  it('refuses a signature by another key, and one that is not a signature at all', () => {
    const signer = keyPair();
    const other = keyPair();
    const signed = signTreatmentStatement(signer.privateKey, signer.keyId, statement());
    expect(verifyTreatmentStatement(other.jwk, statement(), signed.signature)).toBe(false);
    expect(verifyTreatmentStatement(signer.jwk, statement(), 'A'.repeat(86))).toBe(false);
  });

  it('hashes the attestation so that a change to the statement or the signature changes the hash', () => {
    const { privateKey, keyId } = keyPair();
    const signed = signTreatmentStatement(privateKey, keyId, statement());
    const hash = attestationHash(statement(), signed);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(attestationHash(statement({ providerId: 'x' }), signed)).not.toBe(hash);
    expect(attestationHash(statement(), { ...signed, signature: 'B'.repeat(86) })).not.toBe(hash);
  });
});
