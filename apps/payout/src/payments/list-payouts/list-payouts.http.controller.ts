import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { ApiZodQuery, Roles, ZodPipe } from '@claimchain/http';
import { PAYOUT_STATUSES, PaymentDispatchRepository } from '../payment-dispatch.repository';
import { PayoutOpsDto, toPayoutOpsDto } from '../payout-ops.mapper';

const ListPayoutsQuery = z.object({
  status: z.enum(PAYOUT_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** nextCursor of the previous page: the last payout id it showed. */
  cursor: z.string().uuid().optional(),
});
type ListPayoutsQuery = z.infer<typeof ListPayoutsQuery>;

/** Ops: payouts of every insurer, newest first; `?status=failed` is what to look at after a payouts.failed.v1 alert. */
@ApiTags('ops')
@Controller('v1/ops/payouts')
export class ListPayoutsHttpController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: PaymentDispatchRepository,
  ) {}

  @Get()
  @Roles('ops')
  @ApiZodQuery(ListPayoutsQuery)
  async list(
    @Query(new ZodPipe(ListPayoutsQuery, 'PAYOUT.QUERY_INVALID')) q: ListPayoutsQuery,
  ): Promise<{ items: PayoutOpsDto[]; nextCursor: string | null }> {
    const rows = await this.repo.list(this.dataSource.manager, {
      status: q.status,
      before: q.cursor,
      limit: q.limit + 1,
    });
    const items = rows.slice(0, q.limit).map(toPayoutOpsDto);
    return { items, nextCursor: rows.length > q.limit ? items[items.length - 1].payoutId : null };
  }
}
