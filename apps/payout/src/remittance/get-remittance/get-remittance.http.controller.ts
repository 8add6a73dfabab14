import { Controller, Get, Header, Param } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { CurrentPrincipal, DomainError, Principal, Roles, ZodPipe } from '@claimchain/http';
import { PayoutRepository } from '../../persistence/payout.repository';
import { toClaimResponse } from '../claim-response.mapper';

@ApiTags('remittance')
@Controller('v1/remittances')
export class GetRemittanceHttpController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: PayoutRepository,
  ) {}

  /** The FHIR R4 ClaimResponse of an adjudicated claim (outcome `queued` while it is pended for review). */
  @Get(':claimId')
  @Roles('insurer')
  @Header('content-type', 'application/fhir+json; charset=utf-8')
  async get(
    @Param('claimId', new ZodPipe(z.string().uuid(), 'REMITTANCE.CLAIM_ID_INVALID')) claimId: string,
    @CurrentPrincipal() insurer: Principal,
  ): Promise<Record<string, unknown>> {
    const row = await this.repo.remittance(this.dataSource.manager, claimId);
    if (!row || row.insurerId !== insurer.tenant) {
      throw new DomainError('REMITTANCE.NOT_FOUND', 'not-found', `No adjudicated claim ${claimId}`);
    }
    return toClaimResponse({
      claimId,
      insurerId: row.insurerId,
      providerId: row.providerId,
      patientPseudonym: row.patientPseudonym,
      decidedAt: new Date(row.decidedAt).toISOString(),
      result: row.result,
      payment:
        row.paidAmount && row.paidAt
          ? { amount: row.paidAmount, date: new Date(row.paidAt).toISOString().slice(0, 10) }
          : null,
    });
  }
}
