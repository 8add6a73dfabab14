export * from './services';
export * from './env';
