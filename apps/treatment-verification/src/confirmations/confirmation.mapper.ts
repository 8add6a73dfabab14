import { Attestation } from '@claimchain/wire';
import { ConfirmationOutcome, ConfirmationRow, KnownClaim } from './confirmations.repository';
import { ConfirmationReason } from './confirmation-reasons';

/** A confirmation as its provider reads it. */
export interface ConfirmationDto {
  confirmationId: string;
  claimId: string;
  outcome: ConfirmationOutcome;
  reasons: ConfirmationReason[];
  postedAt: string;
  /** When it was decided or ended; null while pending. */
  decidedAt: string | null;
  /** The signed attestation it carried, and its hash (what treatments.verified.v1 commits to); null if unsigned. */
  attestation: (Attestation & { hash: string }) | null;
  /** The rejected confirmation this one corrected; null if it corrected none. */
  supersedes: string | null;
}

export function toConfirmationDto(row: ConfirmationRow): ConfirmationDto {
  return {
    confirmationId: row.id,
    claimId: row.claim_id,
    outcome: row.outcome,
    reasons: row.reasons,
    postedAt: row.created_at.toISOString(),
    decidedAt: row.decided_at ? row.decided_at.toISOString() : null,
    attestation: row.attestation && row.attestation_hash ? { ...row.attestation, hash: row.attestation_hash } : null,
    supersedes: row.supersedes,
  };
}

/** A claim naming the provider that waits for its confirmation: the lines to confirm. */
export interface AwaitingClaimDto {
  claimId: string;
  insurerId: string;
  receivedAt: string;
  items: { sequence: number; system: string; code: string; quantity: number; servicedDate: string }[];
}

export function toAwaitingClaimDto(claim: KnownClaim & { received_at: Date }): AwaitingClaimDto {
  return {
    claimId: claim.claim_id,
    insurerId: claim.insurer_id,
    receivedAt: claim.received_at.toISOString(),
    items: claim.items.map(({ sequence, system, code, quantity, servicedDate }) => ({
      sequence,
      system,
      code,
      quantity,
      servicedDate,
    })),
  };
}
