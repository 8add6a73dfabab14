import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { ApiZodQuery, CurrentPrincipal, Principal, Roles, ZodPipe } from '@claimchain/http';
import { ConfirmationsRepository } from '../confirmations.repository';
import { AwaitingClaimDto, toAwaitingClaimDto } from '../confirmation.mapper';

const AwaitingQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** nextCursor of the previous page: the last claim id it showed. */
  cursor: z.string().uuid().optional(),
});
type AwaitingQuery = z.infer<typeof AwaitingQuery>;

/**
 * A provider's worklist: the claims that name it and still need its confirmation (none decided them, and the
 * insurer did not cancel them), oldest first, with the lines to confirm, so the provider needs no claim ids from
 * elsewhere. Only claims naming the caller ever appear.
 */
@ApiTags('confirmations')
@Controller('v1/worklist')
export class AwaitingConfirmationHttpController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: ConfirmationsRepository,
  ) {}

  @Get()
  @Roles('provider')
  @ApiZodQuery(AwaitingQuery)
  async list(
    @Query(new ZodPipe(AwaitingQuery, 'WORKLIST.QUERY_INVALID')) q: AwaitingQuery,
    @CurrentPrincipal() provider: Principal,
  ): Promise<{ items: AwaitingClaimDto[]; nextCursor: string | null }> {
    const rows = await this.repo.awaitingConfirmation(this.dataSource.manager, {
      providerId: provider.tenant,
      after: q.cursor,
      limit: q.limit + 1,
    });
    const items = rows.slice(0, q.limit).map(toAwaitingClaimDto);
    return { items, nextCursor: rows.length > q.limit ? items[items.length - 1].claimId : null };
  }
}
