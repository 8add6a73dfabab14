/**
 * `claimchain-verify receipt <file> --key <vkey> [--attestation <file> --provider-key <jwk|@file>]`: a claim
 * receipt, offline; with an attestation, also the provider's signed statement the receipt's verification commits to.
 */
import { parseAttestationFile, parseProviderKey, verifyAttestation } from './attestation.verifier';
import { CommandResult } from './command.result';
import { parseClaimReceipt } from './claim-receipt.schema';
import { readTextFile, VerifierKey } from './cli-input.reader';
import { verifyClaimReceipt } from './receipt.verifier';

export interface ReceiptCommandOptions {
  readonly file: string;
  readonly key: VerifierKey;
  readonly origin: string;
  /** The provider's signed statement (or signed confirmation body) and its public key, both or neither. */
  readonly attestation?: { readonly file: string; readonly providerKey: string };
}

export async function receiptCommand({
  file,
  key,
  origin,
  attestation,
}: ReceiptCommandOptions): Promise<CommandResult> {
  const receipt = parseClaimReceipt(await readTextFile(file, 'receipt'), file);
  // Every input is read before anything is verified: an unusable one is an input error, not a finding.
  const attested = attestation
    ? {
        file: parseAttestationFile(await readTextFile(attestation.file, 'attestation'), attestation.file),
        key: attestation.providerKey.startsWith('@')
          ? parseProviderKey(
              await readTextFile(attestation.providerKey.slice(1), 'provider key'),
              attestation.providerKey.slice(1),
            )
          : parseProviderKey(attestation.providerKey, '--provider-key'),
      }
    : undefined;
  const report = verifyClaimReceipt(receipt, key, origin);
  const sizes = report.checkpoints.map((c) => c.size).join(', ');
  const provider = attested ? verifyAttestation(receipt, attested.file, attested.key) : undefined;
  return {
    summary:
      `receipt for claim ${report.claimId}: ${report.events.length} event(s) proven in log ${origin} ` +
      `(checkpoint size ${sizes})` +
      (provider
        ? `; the provider's attestation (key ${provider.keyId}) is the one its verification commits to, and covers ` +
          `verified line(s) ${provider.verifiedLines.join(', ')}`
        : ''),
    details: {
      claimId: report.claimId,
      events: report.events,
      checkpoints: report.checkpoints,
      ...(provider ? { attestation: provider } : {}),
    },
    warnings: report.warnings,
  };
}
