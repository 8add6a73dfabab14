import { DynamicModule, INestApplicationContext } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SERVICES, ServiceConfig } from '@claimchain/config';
import { createHttpApp, HttpMetrics, measureHttpRequests } from '@claimchain/http';
import { MetricsRegistry, MetricsServer, startTracing } from '@claimchain/observability';
import { connectEventTransport } from '@claimchain/messaging';

/**
 * Builds and starts one service as a hybrid Nest app: HTTP on its port plus the Kafka consumer, in one process, and
 * its Prometheus metrics on a port of their own. Each app's main.ts and the end-to-end test both start services
 * through this.
 */
export async function startHybridApp(module: DynamicModule, config: ServiceConfig): Promise<NestFastifyApplication> {
  const app = await createHttpApp(module, {
    logLevel: config.logLevel,
    service: config.service,
    title: config.service,
    description: SERVICES[config.service].description,
    trustProxy: config.trustProxy,
  });
  measureHttpRequests(app, new HttpMetrics(app.get(MetricsRegistry)));
  connectEventTransport(app);
  await app.startAllMicroservices();
  await app.listen(config.port, config.host);
  await app.get(MetricsServer).listen(config.metricsPort, config.host);
  return app;
}

/**
 * The body of every main.ts: start, or say why not and exit non-zero. Tracing starts first when the `OTEL_*`
 * variables ask for it (ADR 20). On SIGTERM or SIGINT (even during startup) the app closes once started (Nest's
 * shutdown hooks: consumers stop, a checkpoint in flight commits, pools close), the spans still batched are
 * exported, and the process exits 0; a second signal while closing exits at once with 1.
 */
export function runService(name: string, start: () => Promise<INestApplicationContext>): void {
  let stopTracing: (() => Promise<void>) | undefined;
  const started = Promise.resolve().then(() => {
    stopTracing = startTracing(name);
    return start();
  });
  let closing = false;
  const stop = (signal: NodeJS.Signals) => {
    if (closing) process.exit(1);
    closing = true;
    process.stdout.write(`${name}: ${signal}, shutting down\n`);
    started
      .then((app) => app.close())
      .then(() => stopTracing?.())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(`${name} failed to shut down cleanly:`, error);
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', stop).on('SIGINT', stop);
  started.catch((error: unknown) => {
    console.error(`${name} failed to start:`, error);
    process.exit(1);
  });
}
