/**
 * The claim receipt file, format `claimchain.receipt.v1` (documented in ../RECEIPT-FORMAT.md): everything needed to
 * check offline that a claim's events are in the log, given only the log's verifier key. This schema checks shape
 * only (JSON types); whether the contents verify is the verifier's job, so a well-formed but forged receipt fails
 * verification (exit 1) rather than parsing (exit 2).
 */
import { z } from 'zod';
import { VerifierError } from './verifier.errors';

export const RECEIPT_FORMAT_V1 = 'claimchain.receipt.v1';

/** The CloudEvent attributes the ledger commits to; the rest of the event is carried along untouched. */
export const ReceiptEvent = z
  .object({
    id: z.string().min(1),
    type: z.string().min(1),
    subject: z.string().min(1),
    time: z.string().min(1),
    source: z.string().min(1),
    tenantid: z.string().nullish(),
    data: z.unknown(),
  })
  .passthrough()
  // z.unknown() lets a missing key through; an event without data has nothing for datahash to commit to.
  .refine((event) => event.data !== undefined, { message: 'Required', path: ['data'] });

export const ReceiptEntry = z.object({
  event: ReceiptEvent,
  leafIndex: z.number().int().nonnegative().safe(),
  treeSize: z.number().int().positive().safe(),
  inclusionProof: z.array(z.string()),
  checkpoint: z.string(),
});

export const ClaimReceiptV1 = z.object({
  format: z.literal(RECEIPT_FORMAT_V1),
  claimId: z.string().min(1),
  verifierKey: z.string(),
  entries: z.array(ReceiptEntry).min(1),
});

export type ClaimReceiptV1 = z.infer<typeof ClaimReceiptV1>;
export type ReceiptEntry = z.infer<typeof ReceiptEntry>;

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
