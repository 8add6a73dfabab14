import { Body, Controller, Get, Headers, Param, Post, Res } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { ApiHeader, ApiResponse, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { ed25519KeyId, Ed25519PublicJwk } from '@claimchain/contracts';
import {
  answerStored,
  ApiZodBody,
  CurrentPrincipal,
  DomainError,
  IDEMPOTENCY_HEADER,
  oncePerKey,
  Principal,
  requireIdempotencyKey,
  Roles,
  ZodPipe,
} from '@claimchain/http';
import { AttestationsRepository, ProviderKeyRow } from './attestations.repository';

const RegisterKeyRequest = z.object({ publicKeyJwk: Ed25519PublicJwk });
type RegisterKeyRequest = z.infer<typeof RegisterKeyRequest>;
const ProviderId = z.string().min(1).max(256);
const KeyId = z
  .string()
  .length(43)
  .regex(/^[A-Za-z0-9_-]+$/);

export interface ProviderKeyDto {
  providerId: string;
  keyId: string;
  publicKeyJwk: Ed25519PublicJwk;
  status: 'active' | 'revoked';
  registeredAt: string;
  revokedAt: string | null;
}

function toDto(row: ProviderKeyRow): ProviderKeyDto {
  return {
    providerId: row.provider_id,
    keyId: row.key_id,
    publicKeyJwk: row.public_jwk,
    status: row.revoked_at ? 'revoked' : 'active',
    registeredAt: row.registered_at.toISOString(),
    revokedAt: row.revoked_at ? row.revoked_at.toISOString() : null,
  };
}

/**
 * Ops manage the Ed25519 keys each provider signs its confirmations with (ADR 13). Rotation is registering the new
 * key, then revoking the old one; several keys may be active meanwhile. A revoked key stays listed, and no
 * confirmation signed with it is accepted from its revocation on.
 */
@ApiTags('provider keys')
@Controller('v1/providers/:providerId/keys')
export class ProviderKeysHttpController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: AttestationsRepository,
  ) {}

  /** 201 with the key and its id (the RFC 7638 thumbprint); 200 if this provider has it already. */
  @Post()
  @Roles('ops')
  @ApiZodBody(RegisterKeyRequest)
  @ApiHeader({ name: 'Idempotency-Key', required: true, description: 'a fresh key per registration; retries reuse it' })
  @ApiResponse({ status: 409, description: 'PROVIDER_KEY.REVOKED: a revoked key cannot be registered again' })
  async register(
    @Param('providerId', new ZodPipe(ProviderId, 'PROVIDER_KEY.PROVIDER_INVALID')) providerId: string,
    @Headers(IDEMPOTENCY_HEADER) idempotencyKey: string | undefined,
    @Body(new ZodPipe(RegisterKeyRequest, 'PROVIDER_KEY.INVALID')) body: RegisterKeyRequest,
    @CurrentPrincipal() ops: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ProviderKeyDto> {
    const key = requireIdempotencyKey(idempotencyKey);
    const result = await this.dataSource.transaction((em) =>
      oncePerKey(em, `${ops.tenant}:register-provider-key`, key, { providerId, body }, async () => {
        const { row, created } = await this.repo.registerKey(em, {
          providerId,
          keyId: ed25519KeyId(body.publicKeyJwk),
          jwk: body.publicKeyJwk,
        });
        if (row.revoked_at) {
          throw new DomainError(
            'PROVIDER_KEY.REVOKED',
            'conflict',
            'This key was revoked and cannot be registered again',
            [{ pointer: '/publicKeyJwk', detail: `key ${row.key_id} was revoked at ${row.revoked_at.toISOString()}` }],
          );
        }
        return { status: created ? 201 : 200, body: toDto(row) };
      }),
    );
    return answerStored(reply, result, `/v1/providers/${encodeURIComponent(providerId)}/keys/${result.body.keyId}`);
  }

  @Get()
  @Roles('ops')
  async list(
    @Param('providerId', new ZodPipe(ProviderId, 'PROVIDER_KEY.PROVIDER_INVALID')) providerId: string,
  ): Promise<{ items: ProviderKeyDto[] }> {
    return { items: (await this.repo.listKeys(this.dataSource.manager, providerId)).map(toDto) };
  }

  /** Revokes the key from now on (a second revocation keeps the first time). */
  @Post(':keyId/revoke')
  @Roles('ops')
  @ApiResponse({ status: 404, description: 'PROVIDER_KEY.NOT_FOUND' })
  async revoke(
    @Param('providerId', new ZodPipe(ProviderId, 'PROVIDER_KEY.PROVIDER_INVALID')) providerId: string,
    @Param('keyId', new ZodPipe(KeyId, 'PROVIDER_KEY.ID_INVALID')) keyId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ProviderKeyDto> {
    const row = await this.repo.revokeKey(this.dataSource.manager, providerId, keyId);
    if (!row)
      throw new DomainError('PROVIDER_KEY.NOT_FOUND', 'not-found', `Provider ${providerId} has no key ${keyId}`);
    void reply.status(200);
    return toDto(row);
  }
}
