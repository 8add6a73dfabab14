import { createHash, createPublicKey, KeyObject, sign, verify } from 'node:crypto';
import { canonicalize } from 'json-canonicalize';
import { z } from 'zod';

/**
 * A provider's signed statement of what it performed for a claim (issue 15.1, ADR 15): Ed25519 over the RFC 8785
 * (JCS) canonical JSON of the statement below. The statement names its type, the claim, the provider and when it
 * was signed, so a signature cannot be replayed for another claim or provider. Keys are identified by their RFC 7638
 * JWK thumbprint. Pure: the service, the signing command and an auditor share it.
 */
export const ATTESTATION_TYPE = 'claimchain.treatment-attestation.v1';

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * An Ed25519 public key as a JWK (RFC 8037): 32 bytes of `x`, base64url. The optional members JWK tools commonly add
 * are accepted (and must then say what an Ed25519 signing key is); anything else is refused.
 */
export const Ed25519PublicJwk = z
  .object({
    kty: z.literal('OKP'),
    crv: z.literal('Ed25519'),
    x: z.string().length(43).regex(BASE64URL, 'base64url'),
    alg: z.literal('EdDSA').optional(),
    use: z.literal('sig').optional(),
    kid: z.string().max(256).optional(),
  })
  .strict();
export type Ed25519PublicJwk = z.infer<typeof Ed25519PublicJwk>;

/** What a confirmation carries beside its body: which key signed, when, and the signature (64 bytes, base64url). */
export const Attestation = z
  .object({
    keyId: z.string().length(43).regex(BASE64URL, 'base64url'),
    signedAt: z.string().datetime({ offset: true }),
    signature: z.string().length(86).regex(BASE64URL, 'base64url'),
  })
  .strict();
export type Attestation = z.infer<typeof Attestation>;

export interface AttestedTreatment {
  system: string;
  code: string;
  quantity: number;
  performedAt: string;
}

export interface TreatmentStatement {
  type: typeof ATTESTATION_TYPE;
  claimId: string;
  providerId: string;
  performed: AttestedTreatment[];
  signedAt: string;
}

/** The statement, with exactly the fields that are signed (any others a caller's objects carry are left out). */
export function treatmentStatement(s: Omit<TreatmentStatement, 'type'>): TreatmentStatement {
  return {
    type: ATTESTATION_TYPE,
    claimId: s.claimId,
    providerId: s.providerId,
    performed: s.performed.map(({ system, code, quantity, performedAt }) => ({ system, code, quantity, performedAt })),
    signedAt: s.signedAt,
  };
}

function signedBytes(statement: TreatmentStatement): Buffer {
  return Buffer.from(canonicalize(statement), 'utf8');
}

/** RFC 7638 thumbprint of an Ed25519 JWK: base64url SHA-256 of `{"crv","kty","x"}` in that order. */
export function ed25519KeyId(jwk: Ed25519PublicJwk): string {
  return createHash('sha256')
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x }))
    .digest('base64url');
}

export function publicKeyOf(jwk: Ed25519PublicJwk): KeyObject {
  return createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' });
}

/** Signs a statement with the provider's Ed25519 private key. */
export function signTreatmentStatement(
  privateKey: KeyObject,
  keyId: string,
  statement: TreatmentStatement,
): Attestation {
  return {
    keyId,
    signedAt: statement.signedAt,
    signature: sign(null, signedBytes(statement), privateKey).toString('base64url'),
  };
}

/** Whether `signature` is the key's signature over exactly this statement. */
export function verifyTreatmentStatement(
  jwk: Ed25519PublicJwk,
  statement: TreatmentStatement,
  signature: string,
): boolean {
  try {
    return verify(null, signedBytes(statement), publicKeyOf(jwk), Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}

/**
 * What the ledger commits to (in `treatments.verified.v1`'s `attestationHash`): hex SHA-256 of the JCS of
 * `{statement, keyId, signature}`. Whoever holds the attestation recomputes it and checks the signature with the
 * provider's registered key, offline.
 */
export function attestationHash(
  statement: TreatmentStatement,
  attestation: Pick<Attestation, 'keyId' | 'signature'>,
): string {
  return createHash('sha256')
    .update(canonicalize({ statement, keyId: attestation.keyId, signature: attestation.signature }))
    .digest('hex');
}
