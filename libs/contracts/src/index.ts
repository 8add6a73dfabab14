export * from './topics';
export * from './money';
export * from './envelope';
export * from './event-catalog';
export * from './events/claim-submitted.event';
export * from './events/treatment.events';
export * from './events/ledger.events';
export * from './events/payout.events';
