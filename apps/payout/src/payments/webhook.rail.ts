import { createHmac, timingSafeEqual } from 'node:crypto';
import { PaymentInstruction, PaymentRail, SubmitResult } from './payment-rail';

export interface WebhookRailOptions {
  url: string;
  /** Shared with the insurer, who checks the signature before acting on the instruction. */
  secret: string;
  timeoutMs?: number;
  /** For tests: the clock the signature's timestamp comes from. */
  now?: () => Date;
}

export const SIGNATURE_HEADER = 'claimchain-signature';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the timestamp lets receivers refuse replays. */
export function signWebhook(secret: string, body: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

/** What an insurer's receiver does: recompute the HMAC and compare in constant time, within a tolerance. */
export function verifyWebhook(secret: string, body: string, header: string, now: Date, toleranceS = 300): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (
    !Number.isInteger(t) ||
    Math.abs(now.getTime() / 1000 - t) > toleranceS ||
    !/^[0-9a-f]{64}$/.test(parts.v1 ?? '')
  ) {
    return false;
  }
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(parts.v1, 'hex'));
}

/**
 * Pays by telling the insurer: an HMAC-signed JSON POST of the payment instruction, with the payout id as
 * Idempotency-Key so the insurer acts once however often it is retried. A 2xx means the insurer took the payout
 * over: the rail returns it as settled, and the dispatcher records `payouts.settled.v1` in the same transaction as
 * the acceptance. Anything else (including a redirect, which is not followed) throws, and the dispatcher retries
 * with backoff. One instance per insurer endpoint; it holds no state between submissions.
 */
export class WebhookRail implements PaymentRail {
  static readonly NAME = 'insurer-webhook';
  readonly name = WebhookRail.NAME;

  constructor(private readonly options: WebhookRailOptions) {}

  async submit(instruction: PaymentInstruction): Promise<SubmitResult> {
    const body = JSON.stringify({ type: 'payout.instruction', ...instruction });
    const now = (this.options.now ?? (() => new Date()))();
    const res = await fetch(this.options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': instruction.payoutId,
        [SIGNATURE_HEADER]: signWebhook(this.options.secret, body, now),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
    });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`webhook answered ${res.status}`);
    return { reference: `webhook-${instruction.payoutId}`, settledAt: now };
  }

  async close(): Promise<void> {}
}
