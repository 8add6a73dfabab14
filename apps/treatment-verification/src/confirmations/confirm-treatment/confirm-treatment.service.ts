import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { Topics } from '@claimchain/contracts';
import { DomainError } from '@claimchain/http';
import { OutboxWriter } from '@claimchain/messaging';
import { ConfirmationsRepository } from '../../persistence/confirmations.repository';
import { ConfirmTreatmentRequest } from './confirm-treatment.request';
import { MatchReason, matchTreatments } from './treatment-matcher';

export const TREATMENT_VERIFICATION_SOURCE = 'claimchain/treatment-verification';

export interface ConfirmationResult {
  confirmationId: string;
  claimId: string;
  outcome: 'verified' | 'rejected';
  reasons: MatchReason[];
}

/**
 * Matches a provider's confirmation against the claim and records the outcome with its event in one transaction.
 * A claim has one outcome: a second confirmation is a conflict, not a second verification.
 */
@Injectable()
export class ConfirmTreatmentService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: ConfirmationsRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  async confirm(request: ConfirmTreatmentRequest): Promise<ConfirmationResult> {
    return this.dataSource.transaction(async (em) => {
      const claim = await this.repo.lockClaim(em, request.claimId);
      if (!claim) {
        throw new DomainError(
          'CLAIM.NOT_FOUND',
          'not-found',
          `Claim ${request.claimId} is not known here (yet): claims arrive from claim-intake within moments of submission`,
        );
      }
      if (await this.repo.hasConfirmation(em, request.claimId)) {
        throw new DomainError(
          'CONFIRMATION.ALREADY_RECORDED',
          'conflict',
          `Claim ${request.claimId} is already confirmed`,
        );
      }
      const match = matchTreatments(claim.items, request.performed);
      const confirmationId = uuidv7();
      const now = new Date();
      const reasons = match.outcome === 'rejected' ? match.reasons : [];
      await this.repo.insertConfirmation(em, {
        id: confirmationId,
        claimId: claim.claim_id,
        outcome: match.outcome,
        performed: request.performed,
        reasons,
      });
      const common = {
        source: TREATMENT_VERIFICATION_SOURCE,
        subject: claim.claim_id,
        tenantid: claim.insurer_id,
        time: now,
      };
      if (match.outcome === 'verified') {
        await this.outbox.add(em, Topics.TreatmentsVerified, {
          ...common,
          data: {
            claimId: claim.claim_id,
            confirmationId,
            providerId: claim.provider_id,
            items: match.items,
            verifiedAt: now.toISOString(),
          },
        });
      } else {
        await this.outbox.add(em, Topics.TreatmentsRejected, {
          ...common,
          data: {
            claimId: claim.claim_id,
            confirmationId,
            providerId: claim.provider_id,
            reasons: match.reasons,
            rejectedAt: now.toISOString(),
          },
        });
      }
      return { confirmationId, claimId: claim.claim_id, outcome: match.outcome, reasons };
    });
  }
}
