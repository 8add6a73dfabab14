import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, LookupFunction } from 'node:net';

/**
 * Where payout may send an insurer's webhook (SSRF guard): never to an address inside our own networks, where a
 * registered URL would let an insurer make payout POST to internal services or a cloud metadata endpoint. Checked at
 * registration for literal IPs and at every delivery for the addresses a hostname resolves to, on the connection
 * itself (the socket connects to the address that was checked, so a DNS answer that changes in between cannot
 * slip through). Loopback is allowed only where WEBHOOK_ALLOW_LOOPBACK says so (development and tests).
 */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

const INTERNAL: [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'], // "this network": 0.0.0.0 reaches the local host
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT
  ['169.254.0.0', 16, 'ipv4'], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'], // multicast
  ['240.0.0.0', 4, 'ipv4'], // reserved, broadcast
  ['::', 128, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'], // NAT64: maps onto IPv4, possibly internal
  ['fc00::', 7, 'ipv6'], // unique local
  ['fe80::', 10, 'ipv6'], // link-local
  ['ff00::', 8, 'ipv6'], // multicast
];
const PRIVATE = new BlockList();
for (const [net, prefix, family] of INTERNAL) PRIVATE.addSubnet(net, prefix, family);

export type AddressKind = 'loopback' | 'private' | 'public';

/** What kind of address an IP literal is (IPv4-mapped IPv6 counts as its IPv4 address). */
export function addressKind(ip: string): AddressKind {
  const address = ip.replace(/^\[|\]$/g, '');
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (LOOPBACK.check(address, family)) return 'loopback';
  return PRIVATE.check(address, family) ? 'private' : 'public';
}

/** Why payout must not send to this IP, or undefined when it may. */
export function addressProblem(ip: string, allowLoopback: boolean): string | undefined {
  const kind = addressKind(ip);
  if (kind === 'public' || (kind === 'loopback' && allowLoopback)) return undefined;
  return kind === 'loopback' ? 'a loopback address' : 'a private, link-local or reserved address';
}

/** Thrown (and recorded as the attempt's error) when a delivery would go to an internal address. */
export class WebhookAddressRefusedError extends Error {}

/**
 * A `lookup` for node:http(s) that resolves as usual and refuses every answer containing an address payout must not
 * send to (one bad record is enough: which one the socket would pick is not ours to choose).
 */
export function guardedLookup(allowLoopback: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const refused = addresses.find((a) => addressProblem(a.address, allowLoopback));
      if (refused) {
        const problem = addressProblem(refused.address, allowLoopback);
        return callback(
          new WebhookAddressRefusedError(
            `webhook host ${hostname} resolves to ${refused.address}, ${problem}: not sent`,
          ),
          '',
        );
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}
