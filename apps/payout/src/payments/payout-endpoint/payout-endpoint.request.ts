import { isIP } from 'node:net';
import { z } from 'zod';
import { addressProblem } from '../webhook-address';

/** Loopback hosts, where plain http never leaves the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return isIP(host) !== 0 && addressProblem(host, false) === 'a loopback address';
}

export interface PayoutEndpointPolicy {
  /** WEBHOOK_ALLOW_HTTP: plain http anywhere (closed networks). */
  allowHttp: boolean;
  /** WEBHOOK_ALLOW_LOOPBACK: URLs to loopback, over http too (development and tests). */
  allowLoopback: boolean;
}

/** Why the URL's host is not one payout may send to, judged without DNS (hostnames are checked at delivery). */
function hostProblem(hostname: string, allowLoopback: boolean): string | undefined {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (isLoopbackHost(host)) return allowLoopback ? undefined : 'must not point to a loopback address';
  const problem = isIP(host) ? addressProblem(host, allowLoopback) : undefined;
  return problem ? `must not point to ${problem}` : undefined;
}

/**
 * Where an insurer wants its payouts delivered: an absolute https URL (http only to a loopback host where loopback
 * is allowed, or anywhere when WEBHOOK_ALLOW_HTTP is set), without credentials or fragment, at most 2048 characters,
 * and never to an internal address (SSRF: loopback only where allowed; private, link-local, metadata never).
 */
export function payoutEndpointRequest(policy: PayoutEndpointPolicy) {
  return z
    .object({
      url: z
        .string()
        .max(2048)
        .url()
        .superRefine((value, ctx) => {
          if (!URL.canParse(value)) return; // .url() has said so
          const url = new URL(value);
          const loopbackHttp = policy.allowLoopback && isLoopbackHost(url.hostname);
          const problem =
            url.protocol !== 'https:' && url.protocol !== 'http:'
              ? 'must be an https URL'
              : url.protocol === 'http:' && !policy.allowHttp && !loopbackHttp
                ? 'must be https (plain http only to a loopback host)'
                : url.username || url.password
                  ? 'must not carry credentials'
                  : url.hash
                    ? 'must not have a fragment'
                    : hostProblem(url.hostname, policy.allowLoopback);
          if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
        }),
    })
    .strict();
}

/** The schema as production validates it (https only, no loopback); documented in OpenAPI. */
export const PayoutEndpointRequest = payoutEndpointRequest({ allowHttp: false, allowLoopback: false });
export type PayoutEndpointRequest = z.infer<typeof PayoutEndpointRequest>;
