/**
 * Offline check of a provider's signed treatment attestation against a claim receipt (issue 15, ADR 15 and 19): the
 * receipt's treatment.verified event (already proven in the log) commits to `attestationHash`; the provider's
 * signed statement, checked with the provider's public key, must hash to it. So an auditor who trusts the log's key
 * and the provider's key learns that the provider attested to what the ledger says was verified, and that every
 * verified line (what payout paid) is among what it attested it performed.
 */
import { z } from 'zod';
import {
  Attestation,
  attestationHash,
  AttestedTreatment,
  ed25519KeyId,
  Ed25519PublicJwk,
  TreatmentStatement,
  treatmentStatement,
  verifyTreatmentStatement,
} from '@claimchain/wire';
import { ClaimReceiptV1 } from './claim-receipt.schema';
import { VerifierError } from './verifier.errors';

const Performed = z.array(
  z.object({ system: z.string(), code: z.string(), quantity: z.number(), performedAt: z.string() }),
);

/**
 * The provider's attestation as a file holds it: either the signed statement (`{statement, keyId, signature}`,
 * exactly what the hash commits to) or the confirmation body the provider posted (`{claimId, performed,
 * attestation}`, what `npm run sign-confirmation -- sign` prints), whose statement is rebuilt with the provider id
 * the receipt names.
 */
export const AttestationFile = z.union([
  z.object({
    statement: z.object({
      type: z.string(),
      claimId: z.string(),
      providerId: z.string(),
      performed: Performed,
      signedAt: z.string(),
    }),
    keyId: z.string(),
    signature: z.string(),
  }),
  z.object({ claimId: z.string(), performed: Performed, attestation: Attestation }),
]);
export type AttestationFile = z.infer<typeof AttestationFile>;

export interface AttestationReport {
  readonly keyId: string;
  readonly signedAt: string;
  readonly attestationHash: string;
  /** The claim lines the ledger-recorded verification verified: each is among the attested performances. */
  readonly verifiedLines: number[];
  /** Lines the verification did not verify, with its reason codes (payout denied them). */
  readonly unverifiedLines: { sequence: number; code: string }[];
}

interface VerifiedData {
  claimId: string;
  providerId: string;
  items: { sequence: number; system: string; code: string; quantity: number; performedAt: string }[];
  attestationHash?: string;
  unverified?: { sequence: number; code: string }[];
}

/** Parses a provider public key: an Ed25519 JWK (the one ops registered). */
export function parseProviderKey(text: string, source: string): Ed25519PublicJwk {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new VerifierError('VERIFIER.KEY_INVALID', `${source} is not JSON: ${(err as Error).message}`);
  }
  // Accept the keygen output / registration body ({publicKeyJwk}) as well as a bare JWK.
  const candidate =
    typeof json === 'object' && json !== null && 'publicKeyJwk' in json
      ? (json as { publicKeyJwk: unknown }).publicKeyJwk
      : json;
  const parsed = Ed25519PublicJwk.safeParse(candidate);
  if (!parsed.success) {
    throw new VerifierError('VERIFIER.KEY_INVALID', `${source} is not an Ed25519 public JWK (RFC 8037)`);
  }
  return parsed.data;
}

export function parseAttestationFile(text: string, source: string): AttestationFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new VerifierError('VERIFIER.INPUT_INVALID', `${source} is not JSON: ${(err as Error).message}`);
  }
  const parsed = AttestationFile.safeParse(json);
  if (!parsed.success) {
    throw new VerifierError(
      'VERIFIER.INPUT_INVALID',
      `${source} is neither a signed statement {statement, keyId, signature} nor a signed confirmation {claimId, performed, attestation}`,
    );
  }
  return parsed.data;
}

/**
 * Checks the attestation against a receipt that has already verified (verifyClaimReceipt): the receipt's
 * treatment.verified event names the hash; the statement is about the receipt's claim and the event's provider,
 * signed by `providerKey` (its thumbprint is the statement's key id), and hashes to what the event names; each
 * verified line was attested as performed (same code system, code and date, at least the quantity).
 */
export function verifyAttestation(
  receipt: ClaimReceiptV1,
  file: AttestationFile,
  providerKey: Ed25519PublicJwk,
): AttestationReport {
  const verifiedEvents = receipt.entries.filter((e) => e.event.type === 'treatment.verified');
  if (verifiedEvents.length === 0) {
    throw new VerifierError(
      'VERIFIER.ATTESTATION_NOT_COMMITTED',
      `the receipt for claim ${receipt.claimId} has no treatment.verified event`,
    );
  }
  const entry = receipt.entries.indexOf(verifiedEvents[verifiedEvents.length - 1]);
  const data = receipt.entries[entry].event.data as VerifiedData;
  const at = { entry };
  if (!data.attestationHash) {
    throw new VerifierError(
      'VERIFIER.ATTESTATION_NOT_COMMITTED',
      `the treatment verification of claim ${receipt.claimId} commits to no attestation: it was confirmed unsigned`,
      at,
    );
  }
  const { statement, keyId, signature } =
    'statement' in file
      ? { ...file, statement: file.statement as TreatmentStatement }
      : {
          statement: treatmentStatement({
            claimId: file.claimId,
            providerId: data.providerId,
            performed: file.performed,
            signedAt: file.attestation.signedAt,
          }),
          keyId: file.attestation.keyId,
          signature: file.attestation.signature,
        };
  if (statement.claimId !== receipt.claimId || statement.providerId !== data.providerId) {
    throw new VerifierError(
      'VERIFIER.ATTESTATION_MISMATCH',
      `the statement is about claim ${statement.claimId} by ${statement.providerId}; the receipt's verification is ` +
        `about claim ${receipt.claimId} by ${data.providerId}`,
      at,
    );
  }
  if (ed25519KeyId(providerKey) !== keyId) {
    throw new VerifierError(
      'VERIFIER.ATTESTATION_SIGNATURE_INVALID',
      `the statement names key ${keyId}; the provider key given is ${ed25519KeyId(providerKey)}`,
      at,
    );
  }
  if (!verifyTreatmentStatement(providerKey, statement, signature)) {
    throw new VerifierError(
      'VERIFIER.ATTESTATION_SIGNATURE_INVALID',
      `the signature does not verify over this statement with key ${keyId}: signed by another key, or altered`,
      at,
    );
  }
  const hash = attestationHash(statement, { keyId, signature });
  if (hash !== data.attestationHash) {
    throw new VerifierError(
      'VERIFIER.ATTESTATION_MISMATCH',
      `the statement hashes to ${hash}; the ledger-recorded verification commits to ${data.attestationHash}`,
      at,
    );
  }
  for (const line of data.items) {
    const attested = statement.performed
      .filter((p: AttestedTreatment) => p.system === line.system && p.code === line.code)
      .filter((p) => p.performedAt === line.performedAt)
      .reduce((n, p) => n + p.quantity, 0);
    if (attested < line.quantity) {
      throw new VerifierError(
        'VERIFIER.ATTESTATION_MISMATCH',
        `line ${line.sequence} (${line.system}|${line.code} × ${line.quantity} on ${line.performedAt}) was verified ` +
          `but the provider attested ${attested}`,
        at,
      );
    }
  }
  return {
    keyId,
    signedAt: statement.signedAt,
    attestationHash: hash,
    verifiedLines: data.items.map((i) => i.sequence),
    unverifiedLines: (data.unverified ?? []).map(({ sequence, code }) => ({ sequence, code })),
  };
}
