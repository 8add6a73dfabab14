export * from './event-codec';
export * from './kafka.factory';
export * from './outbox.writer';
export * from './outbox.relay';
export * from './event-transport';
export * from './messaging.module';
export * from './messaging-tables.migration';
export * from './hybrid-app';
