import { Body, Controller, Param, Post } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  ApiZodBody,
  CurrentPrincipal,
  IdempotencyKey,
  IdempotentCreate,
  Principal,
  Roles,
  StoredResponse,
  ZodPipe,
} from '@claimchain/http';
import { ConfirmationDto } from '../confirmation.mapper';
import { WithdrawConfirmationService } from './withdraw-confirmation.service';

// No body at all is a withdrawal without a reason.
const WithdrawConfirmationRequest = z
  .object({ reason: z.string().trim().min(1).max(500).optional() })
  .strict()
  .default({});
type WithdrawConfirmationRequest = z.infer<typeof WithdrawConfirmationRequest>;

@ApiTags('confirmations')
@Controller('v1/confirmations')
export class WithdrawConfirmationHttpController {
  constructor(private readonly service: WithdrawConfirmationService) {}

  /**
   * Withdraws the caller's confirmation: a pending one at once (200 `withdrawn`); a verified one is a request payout
   * answers (202 `withdrawal-requested`; then `withdrawn` if payout had not decided the claim, which then waits for a
   * new confirmation, or `withdrawal-refused` if it had). Repeating it answers the confirmation as it stands.
   */
  @Post(':id/withdraw')
  @Roles('provider')
  @ApiZodBody(WithdrawConfirmationRequest)
  @IdempotentCreate('a fresh key per withdrawal; retries reuse it')
  @ApiResponse({ status: 200, description: 'the confirmation, `withdrawn` (it was pending, or withdrawn already)' })
  @ApiResponse({
    status: 202,
    description: 'the confirmation, `withdrawal-requested`: its verification was published; payout answers',
  })
  @ApiResponse({ status: 404, description: 'CONFIRMATION.NOT_FOUND: no such confirmation of the caller' })
  @ApiResponse({
    status: 409,
    description:
      'CONFIRMATION.NOT_WITHDRAWABLE: a rejected one is corrected by confirming again; a cancelled or ended one ' +
      'released nothing; a `withdrawal-refused` one was decided by payout already',
  })
  @ApiResponse({ status: 422, description: 'IDEMPOTENCY.KEY_REUSED: the key was used with another request' })
  withdraw(
    @Param('id', new ZodPipe(z.string().uuid(), 'CONFIRMATION.ID_INVALID')) id: string,
    @IdempotencyKey() key: string,
    @Body(new ZodPipe(WithdrawConfirmationRequest, 'CONFIRMATION.WITHDRAWAL_INVALID'))
    body: WithdrawConfirmationRequest,
    @CurrentPrincipal() provider: Principal,
  ): Promise<StoredResponse<ConfirmationDto>> {
    return this.service.withdraw(id, body, provider, key);
  }
}
