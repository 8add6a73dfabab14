import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { ApiZodQuery, CurrentPrincipal, DomainError, Principal, Roles, ZodPipe } from '@claimchain/http';
import { ContractRepository } from '../contract.repository';
import { ContractResponseDto, toContractDto } from '../contract.mapper';

const ListContractsQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });
type ListContractsQuery = z.infer<typeof ListContractsQuery>;

@ApiTags('contracts')
@Controller('v1/contracts')
export class ReadContractsHttpController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: ContractRepository,
  ) {}

  /** The caller's contracts, newest first. */
  @Get()
  @Roles('insurer')
  @ApiZodQuery(ListContractsQuery)
  async list(
    @Query(new ZodPipe(ListContractsQuery, 'CONTRACT.QUERY_INVALID')) q: ListContractsQuery,
    @CurrentPrincipal() insurer: Principal,
  ): Promise<{ items: ContractResponseDto[] }> {
    const rows = await this.repo.listContracts(this.dataSource.manager, insurer.tenant, q.limit);
    return { items: rows.map(toContractDto) };
  }

  /** One of the caller's contracts, or the demo contract that pays for insurers without one; others are 404. */
  @Get(':id')
  @Roles('insurer')
  async get(
    @Param('id', new ZodPipe(z.string().regex(/^[0-9a-f]{64}$/), 'CONTRACT.ID_INVALID')) id: string,
    @CurrentPrincipal() insurer: Principal,
  ): Promise<ContractResponseDto> {
    const row = await this.repo.findContract(this.dataSource.manager, id, insurer.tenant);
    if (!row) throw new DomainError('CONTRACT.NOT_FOUND', 'not-found', `No contract ${id}`);
    return toContractDto(row);
  }
}
