import { z } from 'zod';

const Base64Hash = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'a base64 SHA-256 hash');

/** One event a signed checkpoint covers: which leaf, and the proof that leads from it to the checkpoint's root. */
export const AnchoredEntry = z.object({
  eventId: z.string().uuid(),
  eventType: z.string().min(1),
  /** The anchored event's subject: for a claim's events, the claim id. */
  eventSubject: z.string().min(1),
  leafIndex: z.number().int().nonnegative(),
  leafHash: Base64Hash,
  /** RFC 9162 PATH(leafIndex, D[0:treeSize]) against the notice's checkpoint, leaf end first. */
  inclusionProof: z.array(Base64Hash),
  /**
   * The secret salt of a v2 (salted) leaf's datahash, 64 lowercase hex digits; absent for a v1 leaf (ADR 16). Never
   * on the public ledger: Kafka carries it to the services that keep each claim's receipt (claim-intake) and check
   * anchors (payout), who hand it only to the claim's parties.
   */
  dataSalt: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});
export type AnchoredEntry = z.infer<typeof AnchoredEntry>;

/**
 * Events are "recorded" once a signed checkpoint covers their leaves: one notice per signed checkpoint (ADR 23),
 * listing every event it newly covers with its inclusion proof, the signed note once. A checkpoint covering more than
 * fits one Kafka record under the broker's message size is announced in parts (`part` of `parts`, each with the
 * note); every part stands on its own (each entry with its proof is a self-contained receipt with the note).
 * Replaces `ledger.anchored.v1` (one notice per event, each with the note).
 */
export const LedgerAnchoredV2 = z
  .object({
    origin: z.string().min(1),
    treeSize: z.number().int().positive(),
    rootHash: Base64Hash,
    /** The signed C2SP checkpoint note of treeSize and rootHash. */
    checkpoint: z.string().min(1),
    /** 1-based; parts of one checkpoint share origin, treeSize, rootHash and checkpoint. */
    part: z.number().int().positive(),
    parts: z.number().int().positive(),
    entries: z.array(AnchoredEntry).min(1),
  })
  .refine((n) => n.part <= n.parts, { message: 'part is at most parts', path: ['part'] });
export type LedgerAnchoredV2 = z.infer<typeof LedgerAnchoredV2>;

/** One entry of a notice with its checkpoint: what a consumer keeps of an anchored event. */
export type Anchor = AnchoredEntry & Pick<LedgerAnchoredV2, 'treeSize' | 'rootHash' | 'checkpoint'>;

/** The notice's entries, each with its checkpoint. */
export function anchorsOf(notice: LedgerAnchoredV2): Anchor[] {
  const { treeSize, rootHash, checkpoint } = notice;
  return notice.entries.map((e) => ({ ...e, treeSize, rootHash, checkpoint }));
}

/** Every signed checkpoint, for witnesses and auditors that follow the log. */
export const LedgerCheckpointV1 = z.object({
  origin: z.string().min(1),
  treeSize: z.number().int().positive(),
  rootHash: Base64Hash,
  checkpoint: z.string().min(1),
});
export type LedgerCheckpointV1 = z.infer<typeof LedgerCheckpointV1>;
