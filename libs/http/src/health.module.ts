import { Controller, Get, Inject, Module, DynamicModule } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from './auth/auth.guard';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TerminusModule,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';

/** A readiness probe beyond the database: e.g. "the Kafka consumer has joined its group". */
export interface ReadinessProbe {
  name: string;
  isReady(): boolean;
}
export const READINESS_PROBES = Symbol('READINESS_PROBES');

@Public()
@SkipThrottle()
@ApiExcludeController()
@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    @Inject(READINESS_PROBES) private readonly probes: ReadinessProbe[],
  ) {}

  /** Liveness: the process answers. Restarting it would not fix a dependency being down. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: the database answers and every messaging component is connected. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: 1500 }),
      ...this.probes.map((probe) => () => {
        const indicator = this.indicators.check(probe.name);
        return probe.isReady() ? indicator.up() : indicator.down({ reason: 'not connected yet' });
      }),
    ]);
  }
}

@Module({})
export class HealthModule {
  static forRoot(probesToken: symbol | string | (abstract new (...args: never[]) => unknown)): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule],
      controllers: [HealthController],
      providers: [{ provide: READINESS_PROBES, inject: [probesToken], useFactory: (p: ReadinessProbe[]) => p }],
    };
  }
}
