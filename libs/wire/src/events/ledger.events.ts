import { z } from 'zod';

const Base64Hash = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'a base64 SHA-256 hash');

/** An event is "recorded" once a signed checkpoint covers its leaf: this says which leaf and which checkpoint. */
export const LedgerAnchoredV1 = z.object({
  eventId: z.string().uuid(),
  eventType: z.string().min(1),
  eventSubject: z.string().min(1),
  leafIndex: z.number().int().nonnegative(),
  leafHash: Base64Hash,
  treeSize: z.number().int().positive(),
  rootHash: Base64Hash,
  checkpoint: z.string().min(1),
  /**
   * RFC 9162 PATH(leafIndex, D[0:treeSize]), leaf end first: with the checkpoint, a self-contained receipt. Required
   * (it was optional): payout pays only on an anchor it can prove, and every ledger since the first with a read API
   * sends it (ADR 11 on why this stays v1).
   */
  inclusionProof: z.array(Base64Hash),
  /**
   * The secret salt of a v2 (salted) leaf's datahash, 64 lowercase hex digits; absent for a v1 leaf. Added within v1
   * (optional) on 2026-12-05 (ADR 16). Never on the public ledger: Kafka carries it to the services that keep each
   * claim's receipt (claim-intake) and check anchors (payout), who hand it only to the claim's parties.
   */
  dataSalt: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});
export type LedgerAnchoredV1 = z.infer<typeof LedgerAnchoredV1>;

/** Every signed checkpoint, for witnesses and auditors that follow the log. */
export const LedgerCheckpointV1 = z.object({
  origin: z.string().min(1),
  treeSize: z.number().int().positive(),
  rootHash: Base64Hash,
  checkpoint: z.string().min(1),
});
export type LedgerCheckpointV1 = z.infer<typeof LedgerCheckpointV1>;
