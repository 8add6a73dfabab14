import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Counter, Histogram, Registry } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS } from '@claimchain/observability';

/** The route label of a request no route matched (a 404 from the router): one value, whatever the URL was. */
export const UNMATCHED_ROUTE = 'unmatched';

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];

/** 204 → `2xx`: errors are told apart by class, and the label has six values at most. */
export function statusClassOf(statusCode: number): string {
  return statusCode >= 100 && statusCode < 600 ? STATUS_CLASSES[Math.floor(statusCode / 100) - 1] : 'other';
}

type Children = { requests: Counter.Internal; duration: Histogram.Internal<string> };

/**
 * Requests by route pattern (`/v1/claims/:id`, never the URL, so no claim id becomes a label), method and status
 * class, and their latency. A request's children are looked up by one string key, not a labels object per request.
 */
export class HttpMetrics {
  private readonly requests: Counter<'method' | 'route' | 'status_class'>;
  private readonly duration: Histogram<'method' | 'route'>;
  private readonly children = new Map<string, Children>();

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'claimchain_http_requests_total',
      help: 'HTTP requests answered, by route pattern, method and status class',
      labelNames: ['method', 'route', 'status_class'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'claimchain_http_request_duration_seconds',
      help: 'Time from receiving an HTTP request to the end of its answer, by route pattern and method',
      labelNames: ['method', 'route'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [registry],
    });
  }

  /** `route` is the matched pattern, undefined when no route matched. */
  observe(method: string, route: string | undefined, statusCode: number, seconds: number): void {
    const statusClass = statusClassOf(statusCode);
    const key = `${method} ${route ?? ''} ${statusClass}`;
    let c = this.children.get(key);
    if (!c) {
      const r = route ?? UNMATCHED_ROUTE;
      c = {
        requests: this.requests.labels({ method, route: r, status_class: statusClass }),
        duration: this.duration.labels({ method, route: r }),
      };
      this.children.set(key, c);
    }
    c.requests.inc();
    c.duration.observe(seconds);
  }
}

/** Counts every answered request of `app` (Fastify's onResponse: after the last byte, whatever the outcome). */
export function measureHttpRequests(app: NestFastifyApplication, metrics: HttpMetrics): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', (request, reply, done) => {
      metrics.observe(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
}
