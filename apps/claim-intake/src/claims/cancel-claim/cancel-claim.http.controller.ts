import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { z } from 'zod';
import { ApiTags } from '@nestjs/swagger';
import { ApiZodBody, CurrentPrincipal, Principal, Roles, ZodPipe } from '@claimchain/http';
import { CancelClaimService } from './cancel-claim.service';

const CancelClaimRequest = z.object({ reason: z.string().trim().min(1).max(500) });
type CancelClaimRequest = z.infer<typeof CancelClaimRequest>;

@ApiTags('claims')
@Controller('v1/claims')
export class CancelClaimHttpController {
  constructor(private readonly service: CancelClaimService) {}

  /** Cancels a claim not yet adjudicated; repeating it is harmless (it answers the same). */
  @Post(':id/cancel')
  @HttpCode(200)
  @Roles('insurer')
  @ApiZodBody(CancelClaimRequest)
  cancel(
    @Param('id', new ZodPipe(z.string().uuid(), 'CLAIM.ID_INVALID')) id: string,
    @Body(new ZodPipe(CancelClaimRequest, 'CLAIM.CANCEL_INVALID')) body: CancelClaimRequest,
    @CurrentPrincipal() insurer: Principal,
  ): Promise<{ id: string; status: 'cancelled' }> {
    return this.service.cancel(id, body.reason, insurer);
  }
}
