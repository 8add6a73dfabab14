import { PayoutEndpointRow } from './payout-endpoint.repository';

export interface PayoutEndpointResponseDto {
  url: string;
  createdAt: string;
  updatedAt: string;
  secretRotatedAt: string;
  /**
   * The HMAC-SHA256 signing secret, only in the answer that created or rotated it; it is never shown again. Verify
   * each delivery's `claimchain-signature: t=<unix s>,v1=<hex HMAC of "<t>.<body>">` with it.
   */
  secret?: string;
}

export function toPayoutEndpointDto(row: PayoutEndpointRow, secret?: string): PayoutEndpointResponseDto {
  return {
    url: row.url,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
    secretRotatedAt: new Date(row.secretRotatedAt).toISOString(),
    ...(secret ? { secret } : {}),
  };
}
