import { Controller, Get, Param } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { CurrentPrincipal, DomainError, Principal, Roles, ZodPipe } from '@claimchain/http';
import { ClaimsRepository } from '../claims.repository';
import { ClaimResponseDto, toResponseDto } from '../claim.mapper';

@ApiTags('claims')
@Controller('v1/claims')
export class GetClaimHttpController {
  constructor(private readonly claims: ClaimsRepository) {}

  /**
   * Status, amounts and the timeline of every event with its ledger position once anchored. Another insurer's claim
   * is a 404, exactly like a claim that does not exist.
   */
  @Get(':id')
  @Roles('insurer')
  async get(
    @Param('id', new ZodPipe(z.string().uuid(), 'CLAIM.ID_INVALID')) id: string,
    @CurrentPrincipal() insurer: Principal,
  ): Promise<ClaimResponseDto> {
    const claim = await this.claims.find(id);
    if (!claim || claim.insurer_id !== insurer.tenant) {
      throw new DomainError('CLAIM.NOT_FOUND', 'not-found', `No claim ${id}`);
    }
    return toResponseDto(claim, await this.claims.timeline(id));
  }
}
