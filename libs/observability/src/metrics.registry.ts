import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * One service's Prometheus registry: every metric of the service registers here (never in prom-client's global
 * registry, so the four services can run in one process, as the end-to-end tests do, without mixing their
 * counts), each sample carries `service`, and Node's own metrics (event-loop delay, heap, GC, CPU) come with it.
 * Metric names follow Prometheus' conventions: `claimchain_` prefix, base units (`_seconds`), `_total` counters,
 * and label values from small fixed sets (a route pattern, a topic, a status), never a claim or tenant id.
 */
export class MetricsRegistry extends Registry {
  constructor(readonly service: string) {
    super();
    this.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this });
  }
}

/** Histogram buckets, in seconds, for work that takes milliseconds to seconds (requests, appends, checkpoints). */
export const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
