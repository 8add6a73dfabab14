import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { ApiZodBody, Roles, ZodPipe } from '@claimchain/http';
import { AttestationsRepository } from './attestations.repository';
import { SignaturePolicy } from './signature-policy';

const PolicyRequest = z.object({ signatureRequired: z.boolean() });
type PolicyRequest = z.infer<typeof PolicyRequest>;
const InsurerId = z.string().min(1).max(256);

/**
 * Ops set whether an insurer's claims need a signed confirmation. Without a policy of its own an insurer gets the
 * service's default (CONFIRMATION_SIGNATURES_REQUIRED; required in production).
 */
@ApiTags('provider keys')
@Controller('v1/insurers/:insurerId/attestation-policy')
export class AttestationPolicyHttpController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: AttestationsRepository,
    private readonly policy: SignaturePolicy,
  ) {}

  @Put()
  @Roles('ops')
  @ApiZodBody(PolicyRequest)
  async set(
    @Param('insurerId', new ZodPipe(InsurerId, 'ATTESTATION_POLICY.INSURER_INVALID')) insurerId: string,
    @Body(new ZodPipe(PolicyRequest, 'ATTESTATION_POLICY.INVALID')) body: PolicyRequest,
  ): Promise<{ insurerId: string; signatureRequired: boolean; source: 'insurer' | 'default' }> {
    await this.repo.setPolicy(this.dataSource.manager, insurerId, body.signatureRequired);
    return this.policy.describe(this.dataSource.manager, insurerId);
  }

  @Get()
  @Roles('ops')
  get(
    @Param('insurerId', new ZodPipe(InsurerId, 'ATTESTATION_POLICY.INSURER_INVALID')) insurerId: string,
  ): Promise<{ insurerId: string; signatureRequired: boolean; source: 'insurer' | 'default' }> {
    return this.policy.describe(this.dataSource.manager, insurerId);
  }
}
