/**
 * What code outside payout may use of it: the ops commands under scripts/ and the benches (dependency-cruiser
 * `outside-code-uses-app-entry-points`). The service itself starts from main.ts.
 */
export { dataSourceOptions } from './persistence/data-source.options';
export { loadPayoutConfig } from './payout.config';
export { runReplay } from './adjudication/claim-replay.command';
export { adjudicate, POLICYLESS_ADJUDICATION_ALGORITHM } from './engine/adjudicate';
export type { ClaimToAdjudicate } from './engine/adjudicate';
export { contractIdOf, DEMO_CONTRACT } from './engine/contract.definition';
export { AdjudicationPool } from './adjudication-pool/adjudication.pool';
