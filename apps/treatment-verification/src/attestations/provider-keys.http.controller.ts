import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { ed25519KeyId, Ed25519PublicJwk } from '@claimchain/wire';
import {
  ApiZodBody,
  ApiZodQuery,
  CurrentPrincipal,
  DomainError,
  IdempotencyKey,
  IdempotentCreate,
  oncePerKey,
  Principal,
  Roles,
  StoredResponse,
  ZodPipe,
} from '@claimchain/http';
import { AttestationsRepository, ProviderKeyRow } from './attestations.repository';

const TenantId = z.string().min(1).max(256);
const KeyId = z
  .string()
  .length(43)
  .regex(/^[A-Za-z0-9_-]+$/);
const RegisterKeyRequest = z
  .object({
    providerId: TenantId,
    publicKeyJwk: Ed25519PublicJwk,
    /** If given (`npm run sign-confirmation -- keygen` prints it), it must be the key's thumbprint. */
    keyId: KeyId.optional(),
  })
  .strict()
  .refine((r) => r.keyId === undefined || r.keyId === ed25519KeyId(r.publicKeyJwk), {
    path: ['keyId'],
    message: "not this key's RFC 7638 thumbprint",
  });
type RegisterKeyRequest = z.infer<typeof RegisterKeyRequest>;
const ListKeysQuery = z.object({ providerId: TenantId });
type ListKeysQuery = z.infer<typeof ListKeysQuery>;

export interface ProviderKeyDto {
  keyId: string;
  providerId: string;
  publicKeyJwk: Ed25519PublicJwk;
  status: 'active' | 'revoked';
  registeredAt: string;
  revokedAt: string | null;
}

function toDto(row: ProviderKeyRow): ProviderKeyDto {
  return {
    keyId: row.key_id,
    providerId: row.provider_id,
    publicKeyJwk: row.public_jwk,
    status: row.revoked_at ? 'revoked' : 'active',
    registeredAt: row.registered_at.toISOString(),
    revokedAt: row.revoked_at ? row.revoked_at.toISOString() : null,
  };
}

/**
 * Ops manage the Ed25519 keys each provider signs its confirmations with (ADR 15). A key is addressed by its id
 * (the RFC 7638 thumbprint) and belongs to one provider. Rotation is registering the new key, then revoking the old
 * one; several keys may be active meanwhile. A revoked key stays listed, and no confirmation signed with it is
 * accepted from its revocation on.
 */
@ApiTags('provider keys')
@Controller('v1/provider-keys')
export class ProviderKeysHttpController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: AttestationsRepository,
  ) {}

  /** 201 with the key and its id; 200 if this provider has it already. */
  @Post()
  @Roles('ops')
  @ApiZodBody(RegisterKeyRequest)
  @IdempotentCreate(
    'a fresh key per registration; retries reuse it',
    (k: ProviderKeyDto) => `/v1/provider-keys/${k.keyId}`,
  )
  @ApiResponse({
    status: 409,
    description:
      'PROVIDER_KEY.REVOKED: a revoked key cannot be registered again; PROVIDER_KEY.TAKEN: another provider has it',
  })
  register(
    @IdempotencyKey() key: string,
    @Body(new ZodPipe(RegisterKeyRequest, 'PROVIDER_KEY.INVALID')) body: RegisterKeyRequest,
    @CurrentPrincipal() ops: Principal,
  ): Promise<StoredResponse<ProviderKeyDto>> {
    return this.dataSource.transaction((em) =>
      oncePerKey(em, `${ops.tenant}:register-provider-key`, key, body, async () => {
        const { row, created } = await this.repo.registerKey(em, {
          providerId: body.providerId,
          keyId: ed25519KeyId(body.publicKeyJwk),
          jwk: { kty: body.publicKeyJwk.kty, crv: body.publicKeyJwk.crv, x: body.publicKeyJwk.x },
        });
        if (row.provider_id !== body.providerId) {
          throw new DomainError('PROVIDER_KEY.TAKEN', 'conflict', 'This key is registered for another provider', [
            { pointer: '/publicKeyJwk', detail: 'each provider signs with keys of its own' },
          ]);
        }
        if (row.revoked_at) {
          throw new DomainError('PROVIDER_KEY.REVOKED', 'conflict', 'This key was revoked and cannot come back', [
            { pointer: '/publicKeyJwk', detail: `key ${row.key_id} was revoked at ${row.revoked_at.toISOString()}` },
          ]);
        }
        return { status: created ? 201 : 200, body: toDto(row) };
      }),
    );
  }

  /** A provider's keys, active and revoked, oldest first. */
  @Get()
  @Roles('ops')
  @ApiZodQuery(ListKeysQuery)
  async list(
    @Query(new ZodPipe(ListKeysQuery, 'PROVIDER_KEY.QUERY_INVALID')) q: ListKeysQuery,
  ): Promise<{ items: ProviderKeyDto[] }> {
    return { items: (await this.repo.listKeys(this.dataSource.manager, q.providerId)).map(toDto) };
  }

  /** Revokes the key from now on (a second revocation keeps the first time). */
  @Post(':keyId/revoke')
  @Roles('ops')
  @ApiResponse({ status: 200, description: 'the key, revoked' })
  @ApiResponse({ status: 404, description: 'PROVIDER_KEY.NOT_FOUND' })
  async revoke(
    @Param('keyId', new ZodPipe(KeyId, 'PROVIDER_KEY.ID_INVALID')) keyId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ProviderKeyDto> {
    const row = await this.repo.revokeKey(this.dataSource.manager, keyId);
    if (!row) throw new DomainError('PROVIDER_KEY.NOT_FOUND', 'not-found', `No key ${keyId}`);
    void reply.status(200);
    return toDto(row);
  }
}
