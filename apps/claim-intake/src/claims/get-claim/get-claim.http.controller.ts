import { Controller, Get, Param } from '@nestjs/common';
import { z } from 'zod';
import { CloudEvent } from '@claimchain/contracts';
import { CurrentPrincipal, DomainError, Principal, Roles, ZodPipe } from '@claimchain/http';
import { ClaimEventRow, ClaimRow, ClaimsRepository } from '../../persistence/claims.repository';

export interface ClaimResponseDto {
  id: string;
  status: string;
  insurerId: string;
  providerId: string;
  coverage: string;
  currency: string;
  total: string;
  payable: string | null;
  paid: string | null;
  submittedAt: string;
  updatedAt: string;
  timeline: {
    eventId: string;
    type: string;
    time: string | null;
    event: CloudEvent | null;
    ledger: { index: number; leafHash: string; treeSize: number } | null;
  }[];
}

function toDto(claim: ClaimRow, events: ClaimEventRow[]): ClaimResponseDto {
  return {
    id: claim.id,
    status: claim.status,
    insurerId: claim.insurer_id,
    providerId: claim.provider_id,
    coverage: claim.coverage,
    currency: claim.currency,
    total: claim.total,
    payable: claim.payable,
    paid: claim.paid,
    submittedAt: claim.submitted_at.toISOString(),
    updatedAt: claim.updated_at.toISOString(),
    timeline: events.map((e) => ({
      eventId: e.event_id,
      type: e.type,
      time: e.time ? e.time.toISOString() : null,
      event: e.envelope,
      ledger:
        e.ledger_index === null
          ? null
          : { index: Number(e.ledger_index), leafHash: e.leaf_hash!, treeSize: Number(e.tree_size) },
    })),
  };
}

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
    return toDto(claim, await this.claims.timeline(id));
  }
}
