import { DynamicModule, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MetricsRegistry } from './metrics.registry';
import { MetricsServer } from './metrics.server';
import { registerDatabasePoolMetrics } from './database-pool.metrics';
import { runAfterCommits } from './after-commit';

/**
 * A service's metrics: its registry (with Node's and the database pool's metrics) and the server that exposes it.
 * The server listens only when the service is started as a process (startHybridApp), not when a test builds the
 * app in memory.
 */
@Module({})
export class MetricsModule {
  static forRoot(service: string): DynamicModule {
    return {
      module: MetricsModule,
      global: true,
      providers: [
        {
          provide: MetricsRegistry,
          inject: [DataSource],
          useFactory: (dataSource: DataSource) => {
            const registry = new MetricsRegistry(service);
            registerDatabasePoolMetrics(registry, dataSource);
            runAfterCommits(dataSource);
            return registry;
          },
        },
        MetricsServer,
      ],
      exports: [MetricsRegistry, MetricsServer],
    };
  }
}
