/**
 * A provider's signing tool for treatment confirmations (ADR 15):
 *   npm run sign-confirmation -- keygen --provider <provider id> --out clinic.key
 *     writes a new Ed25519 private key (PKCS#8 PEM, mode 600) and prints the public JWK and its key id: the body ops
 *     register it with (POST /v1/provider-keys).
 *   npm run sign-confirmation -- sign --key clinic.key --provider <provider id> --claim <claim id> \
 *       --performed '[{"system": "...", "code": "99213", "quantity": 1, "performedAt": "2026-11-20"}]'
 *     prints the POST /v1/confirmations body with its `attestation`.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  ed25519KeyId,
  Ed25519PublicJwk,
  signTreatmentStatement,
  treatmentStatement,
  AttestedTreatment,
} from '@claimchain/wire';

const USAGE = `usage: npm run sign-confirmation -- keygen --provider <provider id> --out <private key file>
       npm run sign-confirmation -- sign --key <private key file> --provider <provider id> --claim <claim id> --performed '<JSON array>'`;

export function keygen(
  out: string,
  providerId?: string,
): { providerId?: string; keyId: string; publicKeyJwk: Ed25519PublicJwk } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(out, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  const jwk = publicKey.export({ format: 'jwk' }) as Ed25519PublicJwk;
  return { providerId, keyId: ed25519KeyId(jwk), publicKeyJwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x } };
}

export function signConfirmation(args: {
  keyFile: string;
  providerId: string;
  claimId: string;
  performed: AttestedTreatment[];
  signedAt?: string;
}): { claimId: string; performed: AttestedTreatment[]; attestation: ReturnType<typeof signTreatmentStatement> } {
  const privateKey = createPrivateKey(readFileSync(args.keyFile));
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as Ed25519PublicJwk;
  const statement = treatmentStatement({
    claimId: args.claimId,
    providerId: args.providerId,
    performed: args.performed,
    signedAt: args.signedAt ?? new Date().toISOString(),
  });
  return {
    claimId: statement.claimId,
    performed: statement.performed,
    attestation: signTreatmentStatement(privateKey, ed25519KeyId(jwk), statement),
  };
}

function main(): number {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      key: { type: 'string' },
      provider: { type: 'string' },
      claim: { type: 'string' },
      performed: { type: 'string' },
    },
  });
  if (positionals[0] === 'keygen' && values.out && values.provider) {
    process.stdout.write(`${JSON.stringify(keygen(values.out, values.provider))}\n`);
    return 0;
  }
  if (positionals[0] === 'sign' && values.key && values.provider && values.claim && values.performed) {
    const body = signConfirmation({
      keyFile: values.key,
      providerId: values.provider,
      claimId: values.claim,
      performed: JSON.parse(values.performed) as AttestedTreatment[],
    });
    process.stdout.write(`${JSON.stringify(body)}\n`);
    return 0;
  }
  console.error(USAGE);
  return 2;
}

if (require.main === module) {
  try {
    process.exit(main());
  } catch (error) {
    console.error(`sign-confirmation failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
