import { PaymentRail } from './payment-rail';
import { DuePayout } from './payment-dispatch.repository';
import { WebhookRail } from './webhook.rail';
import { WebhookSecretCipher } from './payout-endpoint/webhook-secret.cipher';

/**
 * Chooses the rail of a payout that has none yet, and gives the rail a payout was put on. The choice is recorded
 * (committed) before the rail is first called, and a payout never changes rail afterwards (ADR 11).
 */
export interface PaymentRails {
  /** The rail's name for a payout not yet on one, or why there is none (the payout then waits for one). */
  choose(payout: DuePayout): { rail: string } | { none: string };
  /** The rail a payout recorded on `rail` is submitted through (one that refuses if that rail is gone). */
  railNamed(rail: string, payout: DuePayout): PaymentRail;
  close(): Promise<void>;
}

/** Every payout through one rail (tests, or a deployment with a single rail). */
export function singleRail(rail: PaymentRail): PaymentRails {
  return {
    choose: () => ({ rail: rail.name }),
    railNamed: (name) => (name === rail.name ? rail : new UnavailableRail(name, `rail ${name} is not configured`)),
    close: () => rail.close(),
  };
}

/**
 * A rail a payout was put on that cannot take it now (the insurer removed its webhook, or this deployment no longer
 * has that rail): every attempt is refused, so the payout retries there until the rail is back or it fails. It is
 * never moved to another rail: the first may have acted on a delivery whose answer was lost.
 */
class UnavailableRail implements PaymentRail {
  constructor(
    readonly name: string,
    private readonly why: string,
  ) {}
  async submit(): Promise<never> {
    throw new Error(this.why);
  }
  async close(): Promise<void> {}
}

/**
 * The insurer's webhook when it registered one, else the bank when this deployment has one (the simulated bank in
 * development and tests only, `SIMULATED_BANK`); with neither, the payout waits for a rail and is never settled.
 */
export class InsurerPaymentRails implements PaymentRails {
  constructor(
    private readonly bank: PaymentRail | undefined,
    private readonly cipher: WebhookSecretCipher,
    private readonly webhook: { timeoutMs: number; allowLoopback: boolean },
  ) {}

  choose(payout: DuePayout): { rail: string } | { none: string } {
    if (payout.endpoint) return { rail: WebhookRail.NAME };
    if (this.bank) return { rail: this.bank.name };
    return { none: `no payment rail: insurer ${payout.insurerId} has no payout endpoint and there is no bank rail` };
  }

  railNamed(rail: string, payout: DuePayout): PaymentRail {
    if (rail === WebhookRail.NAME) {
      if (!payout.endpoint) return new UnavailableRail(rail, 'the insurer has no payout endpoint registered');
      return new WebhookRail({
        url: payout.endpoint.url,
        secret: this.cipher.open(payout.insurerId, payout.endpoint.secretCiphertext),
        timeoutMs: this.webhook.timeoutMs,
        allowLoopback: this.webhook.allowLoopback,
      });
    }
    if (this.bank && rail === this.bank.name) return this.bank;
    return new UnavailableRail(rail, `rail ${rail} is not configured in this deployment`);
  }

  async close(): Promise<void> {
    await this.bank?.close();
  }
}
