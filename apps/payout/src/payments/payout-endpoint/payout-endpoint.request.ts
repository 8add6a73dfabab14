import { isIP } from 'node:net';
import { z } from 'zod';

/** Loopback hosts, where plain http never leaves the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/**
 * Where an insurer wants its payouts delivered: an absolute https URL (http only to a loopback host, or anywhere when
 * WEBHOOK_ALLOW_HTTP is set), without credentials or fragment, at most 2048 characters.
 */
export function payoutEndpointRequest(allowHttp: boolean) {
  return z
    .object({
      url: z
        .string()
        .max(2048)
        .url()
        .superRefine((value, ctx) => {
          if (!URL.canParse(value)) return; // .url() has said so
          const url = new URL(value);
          const problem =
            url.protocol !== 'https:' && url.protocol !== 'http:'
              ? 'must be an https URL'
              : url.protocol === 'http:' && !allowHttp && !isLoopbackHost(url.hostname)
                ? 'must be https (plain http only to a loopback host)'
                : url.username || url.password
                  ? 'must not carry credentials'
                  : url.hash
                    ? 'must not have a fragment'
                    : undefined;
          if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
        }),
    })
    .strict();
}

/** The schema as production validates it (https only); documented in OpenAPI. */
export const PayoutEndpointRequest = payoutEndpointRequest(false);
export type PayoutEndpointRequest = z.infer<typeof PayoutEndpointRequest>;
