import { Body, Controller, Get, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { ApiZodBody, ApiZodQuery, Roles, ZodPipe } from '@claimchain/http';
import { AttestationsRepository } from './attestations.repository';
import { AttestationPolicyDto, SignaturePolicy } from './signature-policy';

const InsurerId = z.string().min(1).max(256);
const PolicyRequest = z
  .object({
    insurerId: InsurerId,
    signatureRequired: z.boolean(),
    /** Days either side of a line's serviced date that still verify it (0–30); left out, it stays as it was (0). */
    dateToleranceDays: z.number().int().min(0).max(30).optional(),
  })
  .strict();
type PolicyRequest = z.infer<typeof PolicyRequest>;
const PolicyQuery = z.object({ insurerId: InsurerId });
type PolicyQuery = z.infer<typeof PolicyQuery>;

/**
 * Ops set whether an insurer's claims need a signed confirmation, and the date tolerance its claim lines are matched
 * with (issue 15 item 3, ADR 19). Without a policy of its own an insurer gets the
 * service's default (CONFIRMATION_SIGNATURES_REQUIRED; required in production).
 */
@ApiTags('provider keys')
@Controller('v1/attestation-policies')
export class AttestationPolicyHttpController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: AttestationsRepository,
    private readonly policy: SignaturePolicy,
  ) {}

  /** Sets (or replaces) the insurer's policy; the same request twice leaves the same policy. */
  @Put()
  @Roles('ops')
  @ApiZodBody(PolicyRequest)
  async set(
    @Body(new ZodPipe(PolicyRequest, 'ATTESTATION_POLICY.INVALID')) body: PolicyRequest,
  ): Promise<AttestationPolicyDto> {
    await this.repo.setPolicy(this.dataSource.manager, body.insurerId, body);
    return this.policy.describe(this.dataSource.manager, body.insurerId);
  }

  /** The policy that applies to the insurer's claims, and whether it is the insurer's own or the default. */
  @Get()
  @Roles('ops')
  @ApiZodQuery(PolicyQuery)
  get(
    @Query(new ZodPipe(PolicyQuery, 'ATTESTATION_POLICY.QUERY_INVALID')) q: PolicyQuery,
  ): Promise<AttestationPolicyDto> {
    return this.policy.describe(this.dataSource.manager, q.insurerId);
  }
}
