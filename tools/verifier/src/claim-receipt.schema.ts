/**
 * The claim receipt file, format `claimchain.receipt.v1` (documented in ../RECEIPT-FORMAT.md): everything needed to
 * check offline that a claim's events are in the log, given only the log's verifier key. This schema checks shape
 * only (JSON types); whether the contents verify is the verifier's job, so a well-formed but forged receipt fails
 * verification (exit 1) rather than parsing (exit 2).
 */
import { ClaimReceiptV1, RECEIPT_FORMAT_V1 } from '@claimchain/wire';
import { VerifierError } from './verifier.errors';

// The schema is the contract between claim-intake (the producer) and this verifier, so it lives in libs/wire.
export { ClaimReceiptV1, RECEIPT_FORMAT_V1, ReceiptEntry, ReceiptEvent } from '@claimchain/wire';

/** Parses the receipt file's text; `source` names it in messages. */
export function parseClaimReceipt(text: string, source: string): ClaimReceiptV1 {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new VerifierError('VERIFIER.INPUT_INVALID', `${source} is not JSON: ${(err as Error).message}`);
  }
  const parsed = ClaimReceiptV1.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `/${i.path.join('/')}: ${i.message}`);
    throw new VerifierError(
      'VERIFIER.INPUT_INVALID',
      `${source} is not a ${RECEIPT_FORMAT_V1} receipt: ${problems.join('; ')}`,
    );
  }
  return parsed.data;
}
