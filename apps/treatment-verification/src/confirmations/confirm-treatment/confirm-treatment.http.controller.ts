import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ZodPipe } from '@claimchain/http';
import { ConfirmTreatmentRequest } from './confirm-treatment.request';
import { ConfirmationResult, ConfirmTreatmentService } from './confirm-treatment.service';

@Controller('v1/confirmations')
export class ConfirmTreatmentHttpController {
  constructor(private readonly service: ConfirmTreatmentService) {}

  /** 201 with the outcome: `verified` (the claim moves on to the ledger and payout) or `rejected` with reasons. */
  @Post()
  @HttpCode(201)
  confirm(
    @Body(new ZodPipe(ConfirmTreatmentRequest, 'CONFIRMATION.INVALID')) body: ConfirmTreatmentRequest,
  ): Promise<ConfirmationResult> {
    return this.service.confirm(body);
  }
}
