export * from './domain-error';
export * from './problem-details.filter';
export * from './zod-body.pipe';
export * from './health.module';
export * from './http-app.factory';
export * from './auth';
export * from './idempotency';
export * from './openapi';
