import { DynamicModule, Module } from '@nestjs/common';
import { AdjudicationPool, AdjudicationPoolSettings } from './adjudication.pool';

/**
 * The worker threads that run contracts (ADR 17). Global: adjudication, reviews, simulation and backtests all run
 * through the one pool, so every path decides a claim the same way and no path can block the service.
 */
@Module({})
export class AdjudicationPoolModule {
  static forRoot(settings: AdjudicationPoolSettings): DynamicModule {
    return {
      module: AdjudicationPoolModule,
      global: true,
      providers: [{ provide: AdjudicationPool, useFactory: () => new AdjudicationPool(settings) }],
      exports: [AdjudicationPool],
    };
  }
}
