import { ServiceConfig, ServiceName } from '@claimchain/config';
import { loadClaimIntakeConfig } from '../../apps/claim-intake/src';
import { loadLedgerAnchoringConfig } from '../../apps/ledger-anchoring/src';
import { loadPayoutConfig } from '../../apps/payout/src';
import { loadTreatmentVerificationConfig } from '../../apps/treatment-verification/src';

/**
 * Each service's whole configuration (libs/config's shared settings and the app's own) as its main.ts loads it: the
 * manifests' specs check the rendered environments against these.
 */
export const LOAD_SERVICE_CONFIG: Record<ServiceName, (env: NodeJS.ProcessEnv) => ServiceConfig> = {
  'claim-intake': loadClaimIntakeConfig,
  'treatment-verification': loadTreatmentVerificationConfig,
  'ledger-anchoring': loadLedgerAnchoringConfig,
  payout: loadPayoutConfig,
};
