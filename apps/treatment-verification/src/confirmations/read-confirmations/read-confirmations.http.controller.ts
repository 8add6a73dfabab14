import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { ApiZodQuery, CurrentPrincipal, DomainError, Principal, Roles, ZodPipe } from '@claimchain/http';
import { CONFIRMATION_OUTCOMES, ConfirmationsRepository } from '../confirmations.repository';
import { ConfirmationDto, toConfirmationDto } from '../confirmation.mapper';

const ListConfirmationsQuery = z.object({
  /** One outcome or several, comma-separated: `pending,rejected`. */
  outcome: z
    .string()
    .transform((s) => s.split(','))
    .pipe(z.array(z.enum(CONFIRMATION_OUTCOMES)))
    .optional(),
  postedFrom: z.string().datetime({ offset: true }).optional(),
  postedTo: z.string().datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** nextCursor of the previous page: the last confirmation id it showed. */
  cursor: z.string().uuid().optional(),
});
type ListConfirmationsQuery = z.infer<typeof ListConfirmationsQuery>;

/**
 * A provider reads its own confirmations, and only those: another provider's is a 404, exactly like one that does
 * not exist.
 */
@ApiTags('confirmations')
@Controller('v1/confirmations')
export class ReadConfirmationsHttpController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: ConfirmationsRepository,
  ) {}

  /** The caller's confirmations, newest first, filtered by outcome and by when they were posted, a page at a time. */
  @Get()
  @Roles('provider')
  @ApiZodQuery(ListConfirmationsQuery)
  async list(
    @Query(new ZodPipe(ListConfirmationsQuery, 'CONFIRMATION.QUERY_INVALID')) q: ListConfirmationsQuery,
    @CurrentPrincipal() provider: Principal,
  ): Promise<{ items: ConfirmationDto[]; nextCursor: string | null }> {
    const rows = await this.repo.listConfirmations(this.dataSource.manager, {
      providerId: provider.tenant,
      outcomes: q.outcome,
      postedFrom: q.postedFrom ? new Date(q.postedFrom) : undefined,
      postedTo: q.postedTo ? new Date(q.postedTo) : undefined,
      before: q.cursor,
      limit: q.limit + 1,
    });
    const items = rows.slice(0, q.limit).map(toConfirmationDto);
    return { items, nextCursor: rows.length > q.limit ? items[items.length - 1].confirmationId : null };
  }

  /** The outcome, with reasons per claim line, or why the confirmation ended without deciding its claim. */
  @Get(':id')
  @Roles('provider')
  async get(
    @Param('id', new ZodPipe(z.string().uuid(), 'CONFIRMATION.ID_INVALID')) id: string,
    @CurrentPrincipal() provider: Principal,
  ): Promise<ConfirmationDto> {
    const row = await this.repo.findConfirmation(this.dataSource.manager, id);
    if (!row || row.provider_id !== provider.tenant) {
      throw new DomainError('CONFIRMATION.NOT_FOUND', 'not-found', `No confirmation ${id}`);
    }
    return toConfirmationDto(row);
  }
}
