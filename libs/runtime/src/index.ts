/**
 * How a service process runs: its bootstrap (startHybridApp: HTTP, the Kafka consumer and metrics in one Nest app;
 * runService: the body of every main.ts, with its signal handling) and the worker threads some apps start.
 */
export * from './service-bootstrap';
export * from './worker-thread';
