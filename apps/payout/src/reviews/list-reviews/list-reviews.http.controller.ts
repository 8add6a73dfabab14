import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { ApiZodQuery, CurrentPrincipal, Principal, Roles, ZodPipe } from '@claimchain/http';
import { ReviewRepository } from '../review.repository';
import { ReviewItemDto, toReviewItemDto } from '../review.mapper';

const ListReviewsQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });
type ListReviewsQuery = z.infer<typeof ListReviewsQuery>;

@ApiTags('reviews')
@Controller('v1/reviews')
export class ListReviewsHttpController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: ReviewRepository,
  ) {}

  /** The caller's pended claims that await a decision, oldest first. */
  @Get()
  @Roles('insurer')
  @ApiZodQuery(ListReviewsQuery)
  async list(
    @Query(new ZodPipe(ListReviewsQuery, 'REVIEW.QUERY_INVALID')) q: ListReviewsQuery,
    @CurrentPrincipal() insurer: Principal,
  ): Promise<{ items: ReviewItemDto[] }> {
    const rows = await this.repo.pendedClaims(this.dataSource.manager, insurer.tenant, q.limit);
    return { items: rows.map(toReviewItemDto) };
  }
}
