import { DynamicModule } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SERVICES, ServiceConfig } from '@claimchain/config';
import { createHttpApp } from '@claimchain/http';
import { connectEventTransport } from './messaging.module';

/**
 * Builds and starts one service as a hybrid Nest app: HTTP on its port plus the Kafka consumer, in one process.
 * Each app's main.ts and the end-to-end test both start services through this.
 */
export async function startHybridApp(module: DynamicModule, config: ServiceConfig): Promise<NestFastifyApplication> {
  const app = await createHttpApp(module, {
    logLevel: config.logLevel,
    title: config.service,
    description: SERVICES[config.service].description,
  });
  connectEventTransport(app);
  await app.startAllMicroservices();
  await app.listen(config.port, config.host);
  return app;
}

/** The body of every main.ts: start, or say why not and exit non-zero. */
export function runService(name: string, start: () => Promise<unknown>): void {
  start().catch((error: unknown) => {
    console.error(`${name} failed to start:`, error);
    process.exit(1);
  });
}
