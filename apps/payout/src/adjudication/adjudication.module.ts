import { Module } from '@nestjs/common';
import { ContractsModule } from '../contracts/contracts.module';
import { PoliciesModule } from '../policies/policies.module';
import { AdjudicationRepository } from './adjudication.repository';
import { AdjudicateClaimService } from './adjudicate-claim.service';
import { PayoutTriggersConsumer } from './payout-triggers.consumer';
import { DecideCancellationService } from './decide-cancellation.service';
import { DecideWithdrawalService } from './decide-withdrawal.service';
import { HeldClaimsHttpController } from './held-claims.http.controller';

/**
 * Adjudication: collects each claim's three facts from Kafka, then decides and releases its payout once. Pays only
 * through the ledger-trust breaker (LedgerTrustModule, global).
 */
@Module({
  imports: [ContractsModule, PoliciesModule],
  controllers: [PayoutTriggersConsumer, HeldClaimsHttpController],
  providers: [AdjudicationRepository, AdjudicateClaimService, DecideCancellationService, DecideWithdrawalService],
  exports: [AdjudicationRepository, AdjudicateClaimService],
})
export class AdjudicationModule {}
