import { MatchReason, UnclaimedReason } from './confirm-treatment/treatment-matcher';

/**
 * Why a confirmation ended without deciding its claim, as its provider reads it. Each says only what that provider
 * may know: an expired confirmation reads the same whether no claim with its id ever arrived or one arrived naming
 * another provider, so no answer tells a provider that someone else's claim exists.
 */
export interface EndReason {
  code:
    | 'NOT_CLAIM_PROVIDER'
    | 'CLAIM_NOT_RECEIVED'
    | 'CLAIM_CANCELLED'
    | 'SIGNATURE_REQUIRED'
    | 'SUPERSEDED'
    | 'WITHDRAWN'
    | 'WITHDRAWAL_REFUSED'
    | 'CANCELLATION_REFUSED'
    | 'ATTESTATION_REQUIRED';
  message: string;
}

/**
 * A reason on a confirmation: a claim line that did not match, a performance no line used, or why it ended
 * undecided.
 */
export type ConfirmationReason = MatchReason | UnclaimedReason | EndReason;

export const NOT_CLAIM_PROVIDER: EndReason = {
  code: 'NOT_CLAIM_PROVIDER',
  message: "The claim names another provider; only its own provider's confirmation counts",
};

export const CLAIM_CANCELLED: EndReason = {
  code: 'CLAIM_CANCELLED',
  message: 'The insurer cancelled the claim; this confirmation releases no payment',
};

/** A confirmation posted unsigned before its claim, whose insurer turned out to require a signature. */
export const SIGNATURE_REQUIRED: EndReason = {
  code: 'SIGNATURE_REQUIRED',
  message: "The claim's insurer requires a signed confirmation (attestation); confirm again with one",
};

export function claimNotReceived(ttlMs: number): EndReason {
  const days = ttlMs / 86_400_000;
  const wait = days >= 1 ? `${+days.toFixed(2)} day(s)` : `${+(ttlMs / 3_600_000).toFixed(4)} hour(s)`;
  return {
    code: 'CLAIM_NOT_RECEIVED',
    message: `No claim with this id naming this provider arrived within ${wait} of the confirmation`,
  };
}

/** A rejected confirmation its provider corrected: the correction (`supersededBy`) decides the claim now. */
export function superseded(correctionId: string): EndReason {
  return {
    code: 'SUPERSEDED',
    message: `The provider corrected this rejected confirmation with confirmation ${correctionId}`,
  };
}

/** A pending confirmation its provider withdrew before its claim arrived: it never counts. */
export const WITHDRAWN: EndReason = {
  code: 'WITHDRAWN',
  message: 'The provider withdrew this confirmation before it decided the claim',
};

/** A verified confirmation its provider withdrew, and payout stopped the payment: the claim waits for a new one. */
export const WITHDRAWN_BEFORE_PAYOUT: EndReason = {
  code: 'WITHDRAWN',
  message: 'The provider withdrew this verification before payout decided the claim; nothing is paid on it',
};

/**
 * Payout pended the claim this verification decided: the insurer's contract requires the provider's signed
 * attestation, and it carried none (ADR 26). The confirmation stays verified; the provider may withdraw it and confirm
 * again, signed, or wait for the insurer's reviewer.
 */
export const ATTESTATION_REQUIRED_BY_CONTRACT: EndReason = {
  code: 'ATTESTATION_REQUIRED',
  message:
    "The insurer's contract requires a signed attestation and this verification has none: the claim awaits the " +
    "insurer's review. Withdraw it and confirm again, signed, to have the claim decided without one",
};

/** Payout had pended the claim for review on this verification, and set that decision aside (ADR 25). */
export const WITHDRAWN_FROM_REVIEW: EndReason = {
  code: 'WITHDRAWN',
  message:
    'The provider withdrew this verification while the claim awaited review; payout set that decision aside and ' +
    'pays nothing on it',
};

/** What payout had decided when it refused a withdrawal or a cancellation (its answer's decision and payout). */
export interface StandingDecision {
  decision: string;
  payable: string;
  currency: string;
  payout: { amount: string; status: string } | null;
}

function standing(d: StandingDecision): string {
  const paid = d.payout ? `, payout of ${d.payout.amount} ${d.currency} ${d.payout.status}` : ', nothing paid';
  return d.decision === 'pended'
    ? 'pended it for review'
    : `decided it (${d.decision}, ${d.payable} ${d.currency}${paid})`;
}

/** Payout refused the provider's withdrawal: it had decided the claim on this verification, which stands. */
export function withdrawalRefused(d: StandingDecision): EndReason {
  return {
    code: 'WITHDRAWAL_REFUSED',
    message: `Payout had already ${standing(d)} on this verification; the withdrawal was refused and it stands`,
  };
}

/** Payout refused the insurer's cancellation: it had decided the claim, so this confirmation still verifies it. */
export function cancellationRefused(d: StandingDecision): EndReason {
  return {
    code: 'CANCELLATION_REFUSED',
    message: `The insurer cancelled the claim after payout had ${standing(d)}; the cancellation was refused`,
  };
}
