export * from './services';
export * from './env';
export * from './postgres';
export * from './prepared-statements';
