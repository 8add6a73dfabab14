import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { ApiZodQuery, Roles, ZodPipe } from '@claimchain/http';
import { AdjudicateClaimService } from './adjudicate-claim.service';
import { AdjudicationRepository, HeldPosition } from './adjudication.repository';

interface HeldClaimDto {
  claimId: string;
  reason: string;
  heldAt: string;
  attempts: number;
}

/** A page's position as its `nextCursor`: the last row's hold time (µs since the epoch) and claim id. */
const CURSOR = /^(\d{1,19})_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const cursorOf = (p: HeldPosition): string => `${p.micros}_${p.claimId}`;

const ListHeldQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** nextCursor of the previous page. */
  cursor: z.string().regex(CURSOR, 'a nextCursor this API returned').optional(),
});
type ListHeldQuery = z.infer<typeof ListHeldQuery>;

const RetryHeldQuery = z.object({
  /** How many of the oldest held claims this call tries (one transaction). */
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
type RetryHeldQuery = z.infer<typeof RetryHeldQuery>;

/**
 * Ops: the claims payout holds because they failed for a reason of their own (ADR 23), and trying them again once
 * the cause is fixed (a contract published, the ledger's anchor corrected). What a dead letter and its replay were
 * for such a claim when every anchor was a notice of its own. Both are bounded: the list is paged, and a retry takes
 * the oldest `limit` claims in one transaction, saying how many remain.
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
  @ApiZodQuery(ListHeldQuery)
  async list(
    @Query(new ZodPipe(ListHeldQuery, 'HELD_CLAIMS.QUERY_INVALID')) q: ListHeldQuery,
  ): Promise<{ items: HeldClaimDto[]; nextCursor: string | null; total: number }> {
    const at = q.cursor ? CURSOR.exec(q.cursor) : null;
    const rows = await this.repo.heldClaims(this.dataSource.manager, {
      limit: q.limit + 1,
      after: at ? { micros: at[1], claimId: at[2] } : undefined,
    });
    const page = rows.slice(0, q.limit);
    return {
      items: page.map(toDto),
      nextCursor: rows.length > q.limit ? cursorOf(page[page.length - 1].position) : null,
      total: await this.repo.countHeld(this.dataSource.manager),
    };
  }

  /**
   * Tries the oldest held claims again in one transaction, under the claims' locks as the consumer takes them: a
   * claim decided (or no longer waiting: cancelled, decided meanwhile) is released, one that fails again stays held.
   * Answers which were released, those of them still held, and how many held claims remain in all.
   */
  @Post('retry')
  @HttpCode(200)
  @Roles('ops')
  @ApiZodQuery(RetryHeldQuery)
  async retry(
    @Query(new ZodPipe(RetryHeldQuery, 'HELD_CLAIMS.QUERY_INVALID')) q: RetryHeldQuery,
  ): Promise<{ released: string[]; held: HeldClaimDto[]; remaining: number }> {
    const { released, tried } = await this.dataSource.transaction(async (em) => {
      const claimIds = (await this.repo.heldClaims(em, { limit: q.limit })).map((h) => h.claimId);
      await this.repo.lockClaims(em, claimIds);
      const held = await this.adjudication.tryAdjudicateMany(em, claimIds, { isolate: true });
      const still = new Set(held.map((h) => h.claimId));
      const done = claimIds.filter((id) => !still.has(id));
      await this.repo.releaseHeld(em, done);
      await this.repo.holdClaims(em, held);
      return { released: done, tried: new Set(claimIds) };
    });
    const manager = this.dataSource.manager;
    const stillHeld = (await this.repo.heldClaims(manager, { limit: q.limit })).filter((h) => tried.has(h.claimId));
    return { released, held: stillHeld.map(toDto), remaining: await this.repo.countHeld(manager) };
  }
}

function toDto(h: { claimId: string; reason: string; heldAt: Date; attempts: number }): HeldClaimDto {
  return { claimId: h.claimId, reason: h.reason, heldAt: new Date(h.heldAt).toISOString(), attempts: h.attempts };
}
