import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Roles } from '@claimchain/http';
import { AdjudicateClaimService } from './adjudicate-claim.service';
import { AdjudicationRepository } from './adjudication.repository';

interface HeldClaimDto {
  claimId: string;
  reason: string;
  heldAt: string;
  attempts: number;
}

/**
 * Ops: the claims payout holds because they failed for a reason of their own (ADR 23), and trying them again once
 * the cause is fixed (a contract published, the ledger's anchor corrected). What a dead letter and its replay were
 * for such a claim when every anchor was a notice of its own.
 */
@ApiTags('ops')
@Controller('v1/ops/held-claims')
export class HeldClaimsHttpController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: AdjudicationRepository,
    private readonly adjudication: AdjudicateClaimService,
  ) {}

  @Get()
  @Roles('ops')
  async list(): Promise<{ held: HeldClaimDto[] }> {
    return { held: await this.show() };
  }

  /**
   * Tries every held claim again in one transaction, under the claims' locks as the consumer takes them: a claim
   * decided (or no longer waiting: cancelled, decided meanwhile) is released, one that fails again stays held.
   */
  @Post('retry')
  @HttpCode(200)
  @Roles('ops')
  async retry(): Promise<{ released: string[]; held: HeldClaimDto[] }> {
    const released = await this.dataSource.transaction(async (em) => {
      const claimIds = (await this.repo.heldClaims(em)).map((h) => h.claimId);
      await this.repo.lockClaims(em, claimIds);
      const held = await this.adjudication.tryAdjudicateMany(em, claimIds, { isolate: true });
      const still = new Set(held.map((h) => h.claimId));
      const done = claimIds.filter((id) => !still.has(id));
      await this.repo.releaseHeld(em, done);
      await this.repo.holdClaims(em, held);
      return done;
    });
    return { released, held: await this.show() };
  }

  private async show(): Promise<HeldClaimDto[]> {
    return (await this.repo.heldClaims(this.dataSource.manager)).map((h) => ({
      ...h,
      heldAt: new Date(h.heldAt).toISOString(),
    }));
  }
}
