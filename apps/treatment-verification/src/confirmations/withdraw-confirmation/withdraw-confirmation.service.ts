import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Topics } from '@claimchain/wire';
import { DomainError, oncePerKey, Principal, StoredResponse } from '@claimchain/http';
import { OutboxWriter } from '@claimchain/messaging';
import { ConfirmationsRepository } from '../confirmations.repository';
import { ConfirmationDto, toConfirmationDto } from '../confirmation.mapper';
import { TREATMENT_VERIFICATION_SOURCE } from '../confirm-treatment/confirm-treatment.service';

export interface WithdrawConfirmationRequest {
  /** Why, in the provider's words; recorded with the request on the ledger. */
  reason?: string;
}

/**
 * A provider withdraws its own confirmation (issue 15 item 4; ADR 19 for a pending one, ADR 22 for a verified one).
 * - `pending`: nothing was published for it, so it is `withdrawn` at once (200).
 * - `verified`: its verification is on its way to the ledger and payout, and only payout knows whether it paid, so
 *   the withdrawal is a request payout answers, exactly like an insurer's cancellation (ADR 16): the confirmation is
 *   `withdrawal-requested` and `treatments.withdrawal-requested.v1` is announced (202); payout's answer makes it
 *   `withdrawn` (payout stopped the payment; the claim waits for a new confirmation) or `withdrawal-refused`
 *   (PayoutAnswersConsumer).
 * - `withdrawal-requested` or `withdrawn` already: answered as it stands, nothing announced again.
 * - anything else: 409 `CONFIRMATION.NOT_WITHDRAWABLE`, the detail saying what to do instead.
 * Only the confirmation's provider may withdraw it (another's is a 404, as one that does not exist). Behind an
 * Idempotency-Key: a retry gets the original answer.
 */
@Injectable()
export class WithdrawConfirmationService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: ConfirmationsRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  async withdraw(
    id: string,
    request: WithdrawConfirmationRequest,
    provider: Principal,
    idempotencyKey: string,
  ): Promise<StoredResponse<ConfirmationDto>> {
    return this.dataSource.transaction((em) =>
      oncePerKey(em, `${provider.tenant}:withdraw-confirmation`, idempotencyKey, { id, request }, () =>
        this.apply(em, id, request, provider),
      ),
    );
  }

  private async apply(
    em: EntityManager,
    id: string,
    request: WithdrawConfirmationRequest,
    provider: Principal,
  ): Promise<{ status: number; body: ConfirmationDto }> {
    const found = await this.repo.findConfirmation(em, id);
    if (!found || found.provider_id !== provider.tenant) {
      throw new DomainError('CONFIRMATION.NOT_FOUND', 'not-found', `No confirmation ${id}`);
    }
    // The claim's lock: its arrival, its cancellation and payout's answers cannot interleave with the withdrawal.
    await this.repo.lockClaimIds(em, [found.claim_id]);
    const row = (await this.repo.findConfirmation(em, id))!;
    switch (row.outcome) {
      case 'pending':
        return { status: 200, body: toConfirmationDto((await this.repo.withdraw(em, id, provider.tenant))!) };
      case 'withdrawn':
        return { status: 200, body: toConfirmationDto(row) };
      case 'withdrawal-requested':
        return { status: 202, body: toConfirmationDto(row) };
      case 'verified':
        return {
          status: 202,
          body: toConfirmationDto(await this.requestWithdrawal(em, row.id, row.claim_id, request)),
        };
      default:
        throw notWithdrawable(id, row.outcome);
    }
  }

  private async requestWithdrawal(
    em: EntityManager,
    id: string,
    claimId: string,
    request: WithdrawConfirmationRequest,
  ) {
    const claim = (await this.repo.confirmationContext(em, [claimId])).claims.get(claimId)!;
    const now = new Date();
    const event = await this.outbox.add(em, Topics.TreatmentsWithdrawalRequested, {
      source: TREATMENT_VERIFICATION_SOURCE,
      subject: claimId,
      tenantid: claim.insurer_id,
      time: now,
      data: {
        claimId,
        insurerId: claim.insurer_id,
        providerId: claim.provider_id,
        confirmationId: id,
        ...(request.reason ? { reason: request.reason } : {}),
        requestedAt: now.toISOString(),
      },
    });
    return this.repo.requestWithdrawal(em, id, event.id);
  }
}

function notWithdrawable(id: string, outcome: string): DomainError {
  const detail =
    outcome === 'withdrawal-refused'
      ? 'payout had already decided the claim on its verification; the decision stands'
      : outcome === 'rejected'
        ? 'it released nothing; confirm the claim again to correct it'
        : outcome === 'cancelled'
          ? 'the insurer cancelled the claim'
          : 'it already ended';
  return new DomainError(
    'CONFIRMATION.NOT_WITHDRAWABLE',
    'conflict',
    `Confirmation ${id} is ${outcome}: only a pending or verified confirmation can be withdrawn`,
    [{ pointer: '/id', detail }],
  );
}
