import { Controller, Get, Header, Param } from '@nestjs/common';
import { ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { CurrentPrincipal, Principal, Roles, ZodPipe } from '@claimchain/http';
import { toExplanationOfBenefit } from '../explanation-of-benefit.mapper';
import { RemittanceReader } from '../remittance.reader';

@ApiTags('remittance')
@Controller('v1/remittances')
export class GetExplanationOfBenefitHttpController {
  constructor(private readonly remittances: RemittanceReader) {}

  /**
   * The FHIR R4 ExplanationOfBenefit of an adjudicated claim, for the member: the lines as billed with their
   * adjudication and reasons, the totals, the payment, and why any line is pended or not paid.
   */
  @Get(':claimId/explanation-of-benefit')
  @Roles('insurer')
  @Header('content-type', 'application/fhir+json; charset=utf-8')
  @ApiProduces('application/fhir+json')
  @ApiResponse({ status: 200, description: 'an HL7 FHIR R4 ExplanationOfBenefit' })
  @ApiResponse({ status: 404, description: 'REMITTANCE.NOT_FOUND: no adjudicated claim of the caller has this id' })
  async get(
    @Param('claimId', new ZodPipe(z.string().uuid(), 'REMITTANCE.CLAIM_ID_INVALID')) claimId: string,
    @CurrentPrincipal() insurer: Principal,
  ): Promise<Record<string, unknown>> {
    return toExplanationOfBenefit(await this.remittances.find(claimId, insurer.tenant));
  }
}
