import { createHmac, timingSafeEqual } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { PaymentInstruction, PaymentRail, SubmitResult } from './payment-rail';
import { addressProblem, guardedLookup, WebhookAddressRefusedError } from './webhook-address';

export interface WebhookRailOptions {
  url: string;
  /** Shared with the insurer, who checks the signature before acting on the instruction. */
  secret: string;
  timeoutMs?: number;
  /** Whether the URL may lead to a loopback address (WEBHOOK_ALLOW_LOOPBACK: development and tests). */
  allowLoopback?: boolean;
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
 * with backoff, as does a URL leading to an internal address (webhook-address.ts). One instance per insurer
 * endpoint; it holds no state between submissions.
 */
export class WebhookRail implements PaymentRail {
  static readonly NAME = 'insurer-webhook';
  readonly name = WebhookRail.NAME;

  constructor(private readonly options: WebhookRailOptions) {}

  async submit(instruction: PaymentInstruction): Promise<SubmitResult> {
    const body = JSON.stringify({ type: 'payout.instruction', ...instruction });
    const now = (this.options.now ?? (() => new Date()))();
    const status = await this.post(body, {
      'content-type': 'application/json',
      'idempotency-key': instruction.payoutId,
      [SIGNATURE_HEADER]: signWebhook(this.options.secret, body, now),
    });
    if (status < 200 || status > 299) throw new Error(`webhook answered ${status}`);
    return { reference: `webhook-${instruction.payoutId}`, settledAt: now };
  }

  /**
   * One POST on node:http(s) rather than fetch, for its `lookup`: the address the socket connects to is the one
   * checked against internal networks. A literal IP is checked here (no lookup happens for it). Redirects are not
   * followed; the answer's status is all that counts.
   */
  private post(body: string, headers: Record<string, string>): Promise<number> {
    const url = new URL(this.options.url);
    const allowLoopback = this.options.allowLoopback ?? false;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const problem = isIP(host) ? addressProblem(host, allowLoopback) : undefined;
    if (problem)
      return Promise.reject(new WebhookAddressRefusedError(`webhook address ${host} is ${problem}: not sent`));
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
          lookup: guardedLookup(allowLoopback),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
        },
        (res) => {
          res.resume(); // the body is not read, only drained so the socket is freed
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async close(): Promise<void> {}
}
