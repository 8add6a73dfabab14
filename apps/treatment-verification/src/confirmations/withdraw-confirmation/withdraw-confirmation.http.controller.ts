import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { CurrentPrincipal, DomainError, Principal, Roles, ZodPipe } from '@claimchain/http';
import { ConfirmationsRepository } from '../confirmations.repository';
import { ConfirmationDto, toConfirmationDto } from '../confirmation.mapper';

/**
 * A provider withdraws its own confirmation while it is still pending: nothing was published for it, so nothing
 * downstream needs to know (issue 15 item 4, ADR 19). Once it decided its claim it cannot be withdrawn here: a
 * rejected one is corrected by confirming again; a verified one is on its way to the ledger and payout, and only
 * the insurer's cancellation of the claim stops its payment.
 */
@ApiTags('confirmations')
@Controller('v1/confirmations')
export class WithdrawConfirmationHttpController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: ConfirmationsRepository,
  ) {}

  /** Withdraws a pending confirmation; withdrawing it again answers the same. */
  @Post(':id/withdraw')
  @HttpCode(200)
  @Roles('provider')
  @ApiResponse({ status: 200, description: 'the confirmation, now `withdrawn`' })
  @ApiResponse({ status: 404, description: 'CONFIRMATION.NOT_FOUND: no such confirmation of the caller' })
  @ApiResponse({
    status: 409,
    description:
      'CONFIRMATION.NOT_WITHDRAWABLE: it already decided its claim (or ended): correct a rejected one by ' +
      'confirming again; a verified one is stopped only by the insurer cancelling the claim',
  })
  async withdraw(
    @Param('id', new ZodPipe(z.string().uuid(), 'CONFIRMATION.ID_INVALID')) id: string,
    @CurrentPrincipal() provider: Principal,
  ): Promise<ConfirmationDto> {
    return this.dataSource.transaction(async (em) => {
      const found = await this.repo.findConfirmation(em, id);
      if (!found || found.provider_id !== provider.tenant) {
        throw new DomainError('CONFIRMATION.NOT_FOUND', 'not-found', `No confirmation ${id}`);
      }
      // The claim's lock: its arrival (which decides pending confirmations) cannot interleave with the withdrawal.
      await this.repo.lockClaimIds(em, [found.claim_id]);
      const row = (await this.repo.withdraw(em, id, provider.tenant))!;
      if (row.outcome !== 'withdrawn') {
        throw new DomainError(
          'CONFIRMATION.NOT_WITHDRAWABLE',
          'conflict',
          `Confirmation ${id} is ${row.outcome}: only a pending confirmation can be withdrawn`,
          [
            {
              pointer: '/id',
              detail:
                row.outcome === 'verified'
                  ? 'its verification is published and payout may pay it; the insurer can cancel the claim'
                  : row.outcome === 'rejected'
                    ? 'it released nothing; confirm the claim again to correct it'
                    : 'it already ended',
            },
          ],
        );
      }
      return toConfirmationDto(row);
    });
  }
}
