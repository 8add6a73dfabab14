import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiZodBody, CurrentPrincipal, Principal, Roles, ZodPipe } from '@claimchain/http';
import { BacktestContractRequest } from './backtest-contract.request';
import { BacktestContractService, BacktestResultDto } from './backtest-contract.service';

@ApiTags('contracts')
@Controller('v1/contracts')
export class BacktestContractHttpController {
  constructor(private readonly backtests: BacktestContractService) {}

  /** Runs the caller's latest decided claims through one of its contracts, beside what was decided; no side effects. */
  @Post(':id/backtest')
  @HttpCode(200)
  @Roles('insurer')
  @ApiZodBody(BacktestContractRequest, 'how many of the latest decided claims to replay (1-200, default 50)')
  @ApiResponse({ status: 200, description: '{contractId, claims: [{claimId, decided, backtest}], totals}' })
  @ApiResponse({ status: 404, description: 'CONTRACT.NOT_FOUND' })
  async backtest(
    @Param('id', new ZodPipe(z.string().regex(/^[0-9a-f]{64}$/), 'CONTRACT.ID_INVALID')) id: string,
    @Body(new ZodPipe(BacktestContractRequest, 'BACKTEST.INVALID')) request: BacktestContractRequest,
    @CurrentPrincipal() insurer: Principal,
  ): Promise<BacktestResultDto> {
    return this.backtests.backtest(id, insurer.tenant, request.limit);
  }
}
