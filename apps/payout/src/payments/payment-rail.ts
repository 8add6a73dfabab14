/**
 * The edge to whatever moves money. A rail accepts an instruction (idempotently: the payout id is the key, so a
 * retried submission never pays twice) and reports settlement later through the listener it was given.
 */
export interface PaymentInstruction {
  payoutId: string;
  claimId: string;
  insurerId: string;
  payeeId: string;
  amount: string;
  currency: string;
}

export interface Settlement {
  payoutId: string;
  reference: string;
  settledAt: Date;
}

export interface SubmitResult {
  reference: string;
  settledAt?: Date;
}

export type SettlementListener = (settlement: Settlement) => Promise<void>;

export interface PaymentRail {
  readonly name: string;
  /**
   * Resolves once the rail accepted the instruction; throws to have it retried with backoff. A rail that settles
   * on acceptance (the insurer's webhook) returns `settledAt`, and the settlement is recorded with the acceptance,
   * in one transaction; others report later through `onSettled`.
   */
  submit(instruction: PaymentInstruction, onSettled: SettlementListener): Promise<SubmitResult>;
  /** Stops reporting (pending settlements are reported again by the rail's own retry, or lost if simulated). */
  close(): Promise<void>;
}
