import {
  applyDecorators,
  CanActivate,
  ExecutionContext,
  Injectable,
  SetMetadata,
  createParamDecorator,
} from '@nestjs/common';
import { ApiBearerAuth, ApiResponse } from '@nestjs/swagger';
import { Reflector } from '@nestjs/core';
import { FastifyRequest } from 'fastify';
import { DomainError } from '../domain-error';
import { Principal, Role } from './principal';
import { TokenRejectedError, TokenVerifier } from './token-verifier';

const ROLES_KEY = 'claimchain:roles';
const PUBLIC_KEY = 'claimchain:public';

/** The roles allowed to call an endpoint. Every endpoint declares its roles or is marked @Public(). */
export const Roles = (...roles: Role[]) =>
  applyDecorators(
    SetMetadata(ROLES_KEY, roles),
    ApiBearerAuth(),
    ApiResponse({ status: 401, description: 'missing or invalid bearer token (problem+json)' }),
    ApiResponse({ status: 403, description: `for roles: ${roles.join(', ')} (problem+json)` }),
  );

/** Reachable without a token: health probes, the ledger's PHI-free public read API. */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/**
 * `authFailure`: why the request may not proceed (no or a bad token, a role the endpoint does not take). The rate
 * limiter counts the request first and then refuses it with this (auth.module.ts), so bad tokens are limited too.
 */
export type AuthenticatedRequest = FastifyRequest & { principal?: Principal; authFailure?: DomainError };

/** The verified caller of the current request (only on endpoints with @Roles). */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on an endpoint without @Roles');
  return principal;
});

/**
 * Global guard: a bearer token is required and verified on every HTTP endpoint that is not @Public(), and the
 * caller's role must be one the endpoint declares. An endpoint that declares neither fails closed (500 and a log
 * line), so a forgotten decorator never opens an endpoint. Tenancy (whose claim is it) is the use case's job.
 * A refusal (401/403) is recorded on the request, not thrown here: the rate limiter, the next guard, counts the
 * request against the caller's address and then refuses it, so requests with invalid tokens are limited too.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (!roles) throw new Error(`${context.getClass().name}.${context.getHandler().name} declares no roles`);
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    request.authFailure = await this.authenticate(request, roles);
    return true;
  }

  private async authenticate(request: AuthenticatedRequest, roles: Role[]): Promise<DomainError | undefined> {
    const match = /^Bearer ([A-Za-z0-9_.~+/-]+=*)$/.exec(request.headers.authorization ?? '');
    if (!match) return new DomainError('AUTH.TOKEN_MISSING', 'unauthenticated', 'A bearer token is required');
    try {
      request.principal = await this.verifier.verify(match[1]);
    } catch (error) {
      if (error instanceof TokenRejectedError) {
        return new DomainError('AUTH.TOKEN_INVALID', 'unauthenticated', error.message);
      }
      throw error;
    }
    if (!roles.includes(request.principal.role)) {
      return new DomainError('AUTH.ROLE_FORBIDDEN', 'forbidden', `This endpoint is for: ${roles.join(', ')}`);
    }
    return undefined;
  }
}
