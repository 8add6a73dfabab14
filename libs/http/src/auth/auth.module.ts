import { DynamicModule, ExecutionContext, Injectable, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { AuthenticatedRequest, AuthGuard } from './auth.guard';
import { RateLimitStorage } from './rate-limit.storage';
import { AuthConfig, TokenVerifier } from './token-verifier';

/**
 * Rate limits per principal (role, tenant, subject) once authenticated, per client address otherwise (no token or a
 * bad one: `req.ip`, the proxy's client address when TRUST_PROXY trusts it). Runs after the AuthGuard, which sets
 * the principal or records why the request is refused; that refusal is thrown here, after the request was counted,
 * so a flood of invalid tokens is limited like any other. Kafka handlers are not rate limited.
 */
@Injectable()
class PrincipalThrottlerGuard extends ThrottlerGuard {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    await super.canActivate(context);
    const failure = context.switchToHttp().getRequest<AuthenticatedRequest>().authFailure;
    if (failure) throw failure;
    return true;
  }

  protected override async getTracker(req: AuthenticatedRequest): Promise<string> {
    const p = req.authFailure?.kind === 'unauthenticated' ? undefined : req.principal;
    return p ? `${p.role}:${p.tenant}:${p.subject}` : `ip:${req.ip}`;
  }

  /** The key as it is: @nestjs/throttler hashes it (SHA-256) on every request, which an in-memory map does not need. */
  protected override generateKey(context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${context.getClass().name}-${context.getHandler().name}-${throttlerName}-${tracker}`;
  }
}

/**
 * Who may call a service's HTTP endpoints, and how often: bearer-token authentication and role checks on every
 * endpoint, then a per-principal rate limit (429 problem+json with Retry-After). Guards run in this order.
 */
@Module({})
export class AuthModule {
  static forRoot(config: AuthConfig & { rateLimitPerSecond: number }): DynamicModule {
    return {
      module: AuthModule,
      imports: [
        ThrottlerModule.forRoot({
          throttlers: [{ name: 'default', ttl: 1000, limit: config.rateLimitPerSecond }],
          storage: new RateLimitStorage(),
        }),
      ],
      providers: [
        { provide: TokenVerifier, useFactory: () => new TokenVerifier(config) },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_GUARD, useClass: PrincipalThrottlerGuard },
      ],
      exports: [TokenVerifier],
    };
  }
}
