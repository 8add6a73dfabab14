import { Controller, Get, Query } from '@nestjs/common';
import { z } from 'zod';
import { ApiTags } from '@nestjs/swagger';
import { ApiZodQuery, CurrentPrincipal, DomainError, Principal, Roles, ZodPipe } from '@claimchain/http';
import { ClaimsRepository } from '../claims.repository';
import { CLAIM_STATUSES } from '../claim-status';
import { ClaimSummaryDto, toSummaryDto } from '../claim.mapper';

const ListClaimsQuery = z.object({
  status: z
    .string()
    .transform((s) => s.split(','))
    .pipe(z.array(z.enum(CLAIM_STATUSES)))
    .optional(),
  submittedFrom: z.string().datetime({ offset: true }).optional(),
  submittedTo: z.string().datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
type ListClaimsQuery = z.infer<typeof ListClaimsQuery>;

/** Opaque to clients: the (submittedAt, id) of the last item of the previous page. */
function encodeCursor(claim: ClaimSummaryDto): string {
  return Buffer.from(JSON.stringify([claim.submittedAt, claim.id])).toString('base64url');
}

function decodeCursor(cursor: string): { submittedAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [string, string];
    const submittedAt = new Date(at);
    if (Number.isNaN(submittedAt.getTime()) || !z.string().uuid().safeParse(id).success) throw new Error('bad');
    return { submittedAt, id };
  } catch {
    throw new DomainError('CLAIM.CURSOR_INVALID', 'invalid', 'The cursor is not one this API returned', [
      { pointer: '/cursor', detail: 'pass nextCursor from the previous page unchanged' },
    ]);
  }
}

@ApiTags('claims')
@Controller('v1/claims')
export class ListClaimsHttpController {
  constructor(private readonly claims: ClaimsRepository) {}

  /** The caller's claims, newest first, filtered by status and submission time, one page at a time. */
  @Get()
  @Roles('insurer')
  @ApiZodQuery(ListClaimsQuery)
  async list(
    @Query(new ZodPipe(ListClaimsQuery, 'CLAIM.QUERY_INVALID')) q: ListClaimsQuery,
    @CurrentPrincipal() insurer: Principal,
  ): Promise<{ items: ClaimSummaryDto[]; nextCursor: string | null }> {
    const rows = await this.claims.list({
      insurerId: insurer.tenant,
      statuses: q.status,
      submittedFrom: q.submittedFrom ? new Date(q.submittedFrom) : undefined,
      submittedTo: q.submittedTo ? new Date(q.submittedTo) : undefined,
      after: q.cursor ? decodeCursor(q.cursor) : undefined,
      limit: q.limit + 1,
    });
    const items = rows.slice(0, q.limit).map(toSummaryDto);
    return { items, nextCursor: rows.length > q.limit ? encodeCursor(items[items.length - 1]) : null };
  }
}
