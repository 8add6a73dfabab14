export * from './wait-for';
export * from './test-database';
export * from './fixtures';
