import { Controller, Get, Header, Param } from '@nestjs/common';
import { ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { CurrentPrincipal, Principal, Roles, ZodPipe } from '@claimchain/http';
import { toClaimResponse } from '../claim-response.mapper';
import { RemittanceReader } from '../remittance.reader';

@ApiTags('remittance')
@Controller('v1/remittances')
export class GetRemittanceHttpController {
  constructor(private readonly remittances: RemittanceReader) {}

  /** The FHIR R4 ClaimResponse of an adjudicated claim (outcome `queued` while it is pended for review). */
  @Get(':claimId')
  @Roles('insurer')
  @Header('content-type', 'application/fhir+json; charset=utf-8')
  @ApiProduces('application/fhir+json')
  @ApiResponse({ status: 200, description: 'an HL7 FHIR R4 ClaimResponse' })
  @ApiResponse({ status: 404, description: 'REMITTANCE.NOT_FOUND: no adjudicated claim of the caller has this id' })
  async get(
    @Param('claimId', new ZodPipe(z.string().uuid(), 'REMITTANCE.CLAIM_ID_INVALID')) claimId: string,
    @CurrentPrincipal() insurer: Principal,
  ): Promise<Record<string, unknown>> {
    return toClaimResponse(await this.remittances.find(claimId, insurer.tenant));
  }
}
