import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { MetricsRegistry } from './metrics.registry';

/** Where Prometheus scrapes. */
export const METRICS_PATH = '/metrics';

/**
 * GET /metrics in Prometheus' text format, on a listener of its own: the public HTTP server (and so the ingress in
 * front of it) never serves it, and a scrape costs no Fastify route, auth or rate limit. A bare node:http server
 * is the cheapest correct thing: one path, one method, no body.
 */
@Injectable()
export class MetricsServer implements OnApplicationShutdown {
  private server?: Server;

  constructor(private readonly registry: MetricsRegistry) {}

  /** Listens on `port` (0: any free one) and `host`; resolves with the URL Prometheus scrapes. */
  async listen(port: number, host: string): Promise<string> {
    const server = createServer((request, response) => {
      const path = (request.url ?? '').split('?')[0];
      if (path !== METRICS_PATH) {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
        return;
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end();
        return;
      }
      this.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    return this.url!;
  }

  /** The scrape URL once listening (127.0.0.1 when listening on every interface). */
  get url(): string | undefined {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) return undefined;
    const host = ['0.0.0.0', '::'].includes(address.address) ? '127.0.0.1' : address.address;
    return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}${METRICS_PATH}`;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
