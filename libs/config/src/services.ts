/**
 * The four services: name, default HTTP port and database, defined once. The launcher, the tests and each app's
 * bootstrap read this table.
 */
export const SERVICES = {
  'claim-intake': { port: 3001, database: 'claim_intake' },
  'treatment-verification': { port: 3002, database: 'treatment_verification' },
  'ledger-anchoring': { port: 3003, database: 'ledger_anchoring' },
  payout: { port: 3004, database: 'payout' },
} as const;

export type ServiceName = keyof typeof SERVICES;
export const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];

/** `claim-intake` → `CLAIM_INTAKE`: the prefix of a service's own environment variables. */
export function envPrefixOf(service: ServiceName): string {
  return service.toUpperCase().replace(/-/g, '_');
}
