/**
 * The four services: name, default HTTP port, default metrics port and database, defined once. The launcher, the tests and each app's
 * bootstrap read this table.
 */
export const SERVICES = {
  'claim-intake': {
    port: 3001,
    metricsPort: 9464,
    database: 'claim_intake',
    description: 'Insurers submit FHIR R4 claims and follow their status, amounts and ledger receipts.',
  },
  'treatment-verification': {
    port: 3002,
    metricsPort: 9465,
    database: 'treatment_verification',
    description: 'Providers confirm the treatments they performed; matched claims become verified.',
  },
  'ledger-anchoring': {
    port: 3003,
    metricsPort: 9466,
    database: 'ledger_anchoring',
    description: 'The public RFC 9162 transparency log of every domain event: checkpoints, entries and proofs.',
  },
  payout: {
    port: 3004,
    metricsPort: 9467,
    database: 'payout',
    description: 'Smart contracts adjudicate anchored, verified claims and release each payment exactly once.',
  },
} as const;

/**
 * Every pod serves Prometheus metrics on this port (METRICS_PORT in deploy/k8s/base/config.env); the per-service
 * defaults above differ only so that the four can run side by side on one machine.
 */
export const KUBERNETES_METRICS_PORT = 9464;

export type ServiceName = keyof typeof SERVICES;
export const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];

/** `claim-intake` → `CLAIM_INTAKE`: the prefix of a service's own environment variables. */
export function envPrefixOf(service: ServiceName): string {
  return service.toUpperCase().replace(/-/g, '_');
}
