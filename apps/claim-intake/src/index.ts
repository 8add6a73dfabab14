/**
 * What code outside claim-intake may use of it: the ops commands under scripts/ (dependency-cruiser
 * `outside-code-uses-app-entry-points`). The service itself starts from main.ts.
 */
export { dataSourceOptions } from './persistence/data-source.options';
export { loadClaimIntakeConfig } from './claim-intake.config';
