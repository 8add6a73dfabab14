export * from './metrics.registry';
export * from './metrics.server';
export * from './metrics.module';
export * from './after-commit';
export * from './database-pool.metrics';
export * from './tracing';
