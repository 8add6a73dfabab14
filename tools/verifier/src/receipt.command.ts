/** `claimchain-verify receipt <file> --key <vkey>`: a claim receipt, offline. */
import { CommandResult } from './command.result';
import { parseClaimReceipt } from './claim-receipt.schema';
import { readTextFile, VerifierKey } from './cli-input.reader';
import { verifyClaimReceipt } from './receipt.verifier';

export interface ReceiptCommandOptions {
  readonly file: string;
  readonly key: VerifierKey;
  readonly origin: string;
}

export async function receiptCommand({ file, key, origin }: ReceiptCommandOptions): Promise<CommandResult> {
  const receipt = parseClaimReceipt(await readTextFile(file, 'receipt'), file);
  const report = verifyClaimReceipt(receipt, key, origin);
  const sizes = report.checkpoints.map((c) => c.size).join(', ');
  return {
    summary:
      `receipt for claim ${report.claimId}: ${report.events.length} event(s) proven in log ${origin} ` +
      `(checkpoint size ${sizes})`,
    details: { claimId: report.claimId, events: report.events, checkpoints: report.checkpoints },
    warnings: report.warnings,
  };
}
