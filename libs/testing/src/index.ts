export * from './wait-for';
export * from './test-database';
export * from './fixtures';
export * from './fhir-r4-schema';
export * from './dlq-reader';
export * from './prometheus-text';
export * from './event-keys';
