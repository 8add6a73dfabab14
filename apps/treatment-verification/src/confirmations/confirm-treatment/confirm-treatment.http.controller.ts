import { Body, Controller, Get, Param, Post, Res } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { z } from 'zod';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiZodBody, CurrentPrincipal, Principal, Roles, ZodPipe } from '@claimchain/http';
import { ConfirmTreatmentRequest } from './confirm-treatment.request';
import { ConfirmationResult, ConfirmTreatmentService } from './confirm-treatment.service';

@ApiTags('confirmations')
@Controller('v1/confirmations')
export class ConfirmTreatmentHttpController {
  constructor(private readonly service: ConfirmTreatmentService) {}

  /**
   * 201 with the outcome (`verified`: the claim moves on to the ledger and payout; `rejected` with reasons), or 202
   * `pending` when the claim has not reached this service yet: it is decided as soon as it does.
   */
  @Post()
  @Roles('provider')
  @ApiZodBody(ConfirmTreatmentRequest)
  @ApiResponse({
    status: 429,
    description: 'CONFIRMATION.TOO_MANY_PENDING: too many confirmations wait for their claims; see Retry-After',
  })
  async confirm(
    @Body(new ZodPipe(ConfirmTreatmentRequest, 'CONFIRMATION.INVALID')) body: ConfirmTreatmentRequest,
    @CurrentPrincipal() provider: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ConfirmationResult> {
    const result = await this.service.confirm(body, provider);
    void reply.status(result.outcome === 'pending' ? 202 : 201);
    void reply.header('location', `/v1/confirmations/${result.confirmationId}`);
    return result;
  }

  @Get(':id')
  @Roles('provider')
  get(
    @Param('id', new ZodPipe(z.string().uuid(), 'CONFIRMATION.ID_INVALID')) id: string,
    @CurrentPrincipal() provider: Principal,
  ): Promise<ConfirmationResult> {
    return this.service.get(id, provider);
  }
}
