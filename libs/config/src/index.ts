export * from './services';
export * from './env';
export * from './worker-thread';
export * from './postgres';
export * from './prepared-statements';
