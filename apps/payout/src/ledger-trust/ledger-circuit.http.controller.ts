import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { ApiZodBody, CurrentPrincipal, Principal, Roles, ZodPipe } from '@claimchain/http';
import { LedgerTrustRepository } from './ledger-trust.repository';

const ResetCircuitRequest = z.object({ reason: z.string().min(1).max(500) }).strict();
type ResetCircuitRequest = z.infer<typeof ResetCircuitRequest>;

interface CircuitDto {
  state: 'closed' | 'open';
  reason: string | null;
  changedBy: string | null;
  changedAt: string;
  /** The largest checkpoint payout has proven every earlier one consistent with; null before the first anchor. */
  latestCheckpoint: { treeSize: number; rootHash: string } | null;
}

/** Ops: whether payout trusts the ledger (closed) or has stopped paying (open), and the reset after an incident. */
@ApiTags('ops')
@Controller('v1/ops/ledger-circuit')
export class LedgerCircuitHttpController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: LedgerTrustRepository,
  ) {}

  @Get()
  @Roles('ops')
  async get(): Promise<CircuitDto> {
    return this.show();
  }

  /** Closes the breaker; replay the payout topics' dead letters afterwards to pay what waited. */
  @Post('reset')
  @HttpCode(200)
  @Roles('ops')
  @ApiZodBody(ResetCircuitRequest, 'why it is safe to pay again')
  async reset(
    @Body(new ZodPipe(ResetCircuitRequest, 'CIRCUIT.INVALID')) request: ResetCircuitRequest,
    @CurrentPrincipal() ops: Principal,
  ): Promise<CircuitDto> {
    await this.dataSource.transaction((em) => this.repo.setCircuit(em, false, request.reason, ops.subject));
    return this.show();
  }

  private async show(): Promise<CircuitDto> {
    const c = await this.repo.circuit(this.dataSource.manager);
    const latest = await this.repo.largestSeenCheckpoint(this.dataSource.manager);
    return {
      state: c.open ? 'open' : 'closed',
      reason: c.reason,
      changedBy: c.changedBy,
      changedAt: new Date(c.changedAt).toISOString(),
      latestCheckpoint: latest ? { treeSize: latest.size, rootHash: latest.root } : null,
    };
  }
}
