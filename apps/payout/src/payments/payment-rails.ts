import { PaymentRail } from './payment-rail';
import { DuePayout } from './payment-dispatch.repository';
import { WebhookRail } from './webhook.rail';
import { WebhookSecretCipher } from './payout-endpoint/webhook-secret.cipher';

/** Chooses the rail each payout goes through. */
export interface PaymentRails {
  railFor(payout: DuePayout): PaymentRail;
  close(): Promise<void>;
}

/** Every payout through one rail (tests, or a deployment with a single rail). */
export function singleRail(rail: PaymentRail): PaymentRails {
  return { railFor: () => rail, close: () => rail.close() };
}

/** A webhook payout whose insurer removed its endpoint: refused until one is registered again. */
class UnregisteredWebhookRail implements PaymentRail {
  readonly name = WebhookRail.NAME;
  async submit(): Promise<never> {
    throw new Error('the insurer has no payout endpoint registered');
  }
  async close(): Promise<void> {}
}

/**
 * The insurer's webhook when it registered one, else the bank. A payout stays on the rail of its first attempt:
 * a bank transfer under way is never also sent to a webhook registered later (that could pay twice), and a webhook
 * payout is not moved to the bank when the endpoint is removed (the insurer may have acted on a delivery whose
 * answer was lost); it is retried until an endpoint is registered again or it fails.
 */
export class InsurerPaymentRails implements PaymentRails {
  private readonly unregistered = new UnregisteredWebhookRail();

  constructor(
    private readonly bank: PaymentRail,
    private readonly cipher: WebhookSecretCipher,
    private readonly webhook: { timeoutMs: number; allowLoopback: boolean },
  ) {}

  railFor(payout: DuePayout): PaymentRail {
    const webhook = payout.rail ? payout.rail === WebhookRail.NAME : payout.endpoint !== null;
    if (!webhook) return this.bank;
    if (!payout.endpoint) return this.unregistered;
    return new WebhookRail({
      url: payout.endpoint.url,
      secret: this.cipher.open(payout.insurerId, payout.endpoint.secretCiphertext),
      timeoutMs: this.webhook.timeoutMs,
      allowLoopback: this.webhook.allowLoopback,
    });
  }

  async close(): Promise<void> {
    await this.bank.close();
  }
}
