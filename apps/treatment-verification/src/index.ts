/**
 * What code outside treatment-verification may use of it: the ops commands under scripts/ (dependency-cruiser
 * `outside-code-uses-app-entry-points`). The service itself starts from main.ts.
 */
export { dataSourceOptions } from './persistence/data-source.options';
export { loadTreatmentVerificationConfig } from './treatment-verification.config';
