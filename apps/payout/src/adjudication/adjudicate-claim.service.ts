import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { Topics } from '@claimchain/contracts';
import { leafHashOfEvent } from '@claimchain/ledger';
import { OutboxWriter, PermanentEventError } from '@claimchain/messaging';
import { PayoutRepository } from '../persistence/payout.repository';
import { adjudicate } from './adjudicate';

export const PAYOUT_SOURCE = 'claimchain/payout';

/**
 * Adjudicates and pays a claim once its three facts are in: the claim, its treatment verification, and the
 * ledger's word that a signed checkpoint covers that verification. Runs in the caller's inbox transaction under
 * the claim's lock; the primary keys on adjudications and payouts make a second payout impossible even so.
 */
@Injectable()
export class AdjudicateClaimService {
  private readonly logger = new Logger(AdjudicateClaimService.name);

  constructor(
    private readonly repo: PayoutRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  async tryAdjudicate(em: EntityManager, claimId: string): Promise<void> {
    const pending = await this.repo.pending(em, claimId);
    if (!pending) return;
    const { claim, verification, anchor } = pending;
    // The anchor must commit to exactly the verification we hold; otherwise the ledger and our copy disagree.
    const expected = leafHashOfEvent(verification).toString('base64');
    if (expected !== anchor.leaf_hash) {
      this.logger.error(`ALERT: ledger leaf ${anchor.leaf_index} does not commit to verification ${verification.id}`);
      throw new PermanentEventError(`ledger leaf hash mismatch for verification ${verification.id}`);
    }
    const contract = await this.repo.contractFor(em, claim.insurer_id);
    if (!contract) throw new Error(`no contract in force for insurer ${claim.insurer_id}`);
    const result = await adjudicate(contract.definition, claim.items);
    const now = new Date();
    const common = {
      source: PAYOUT_SOURCE,
      subject: claimId,
      tenantid: claim.insurer_id,
      time: now,
      causationid: verification.id,
    };
    await this.repo.insertAdjudication(em, {
      claimId,
      contractId: contract.id,
      decision: result.decision,
      payable: result.payable,
      result,
    });
    await this.outbox.add(em, Topics.ClaimsAdjudicated, {
      ...common,
      data: {
        claimId,
        contractId: contract.id,
        verifiedEventId: verification.id,
        decision: result.decision,
        currency: claim.currency,
        submitted: result.submitted,
        payable: result.payable,
        lines: result.lines,
        adjudicatedAt: now.toISOString(),
      },
    });
    if (result.decision === 'denied') return;
    const payoutId = uuidv7();
    await this.repo.insertPayout(em, {
      id: payoutId,
      claimId,
      payeeId: claim.provider_id,
      amount: result.payable,
      currency: claim.currency,
    });
    await this.outbox.add(em, Topics.PayoutsReleased, {
      ...common,
      data: {
        claimId,
        payoutId,
        contractId: contract.id,
        payeeId: claim.provider_id,
        amount: result.payable,
        currency: claim.currency,
        releasedAt: now.toISOString(),
      },
    });
  }
}
