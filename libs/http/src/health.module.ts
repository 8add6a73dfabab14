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

/** A pipeline probe beyond the database: e.g. "the Kafka consumer has joined its group". */
export interface ReadinessProbe {
  name: string;
  isReady(): boolean;
  /** Why a connected component is still not flowing (e.g. waiting for a dependency), or undefined when it flows. */
  problem?(): Record<string, unknown> | undefined;
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

  /**
   * Readiness: the service can answer its API, i.e. the database answers. Kafka is deliberately not part of it: every
   * write goes to the database and its outbox, so during a broker outage the APIs keep accepting claims,
   * confirmations and contracts, and the events wait in the outboxes. (With Kafka in readiness, a broker outage took
   * every pod of every service out of its Service at once.)
   */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.database()]);
  }

  /**
   * The whole pipeline: the database, and every messaging component connected (the outbox relay publishing, the
   * Kafka consumer in its group). What the launcher and the tests wait for before sending work, and what to alert on.
   */
  @Get('pipeline')
  @HealthCheck()
  pipeline() {
    return this.health.check([
      () => this.database(),
      ...this.probes.map((probe) => () => {
        const indicator = this.indicators.check(probe.name);
        const problem = probe.problem?.();
        if (!probe.isReady()) return indicator.down({ reason: 'not connected', ...problem });
        return problem ? indicator.down(problem) : indicator.up();
      }),
    ]);
  }

  private database() {
    return this.db.pingCheck('database', { timeout: 1500 });
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
