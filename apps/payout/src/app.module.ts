import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Topics } from '@claimchain/wire';
import { AuthModule, HealthModule, idempotencyKeysRetention } from '@claimchain/http';
import { MESSAGING_PROBES, MessagingModule } from '@claimchain/messaging';
import { dataSourceOptions } from './persistence/data-source.options';
import { AdjudicationModule } from './adjudication/adjudication.module';
import { ContractsModule } from './contracts/contracts.module';
import { ContractSettingsModule } from './contracts/contract-settings.module';
import { LedgerTrustModule } from './ledger-trust/ledger-trust.module';
import { PaymentsModule } from './payments/payments.module';
import { PoliciesModule } from './policies/policies.module';
import { RemittanceModule } from './remittance/remittance.module';
import { ReviewsModule } from './reviews/reviews.module';
import { PayoutMetricsModule } from './payout.metrics';
import { AdjudicationPoolModule } from './adjudication-pool/adjudication-pool.module';
import { PayoutConfig } from './payout.config';

/**
 * payout: insurers publish contracts (json-rules-engine rule sets plus parameters) and enrol policies; the contract
 * adjudicates anchored, verified claims line by line against the policy's accumulators and pays exactly once.
 * One module per feature; this one adds the infrastructure they share and the configuration.
 */
@Module({})
export class PayoutModule {
  static forRoot(config: PayoutConfig): DynamicModule {
    return {
      module: PayoutModule,
      imports: [
        TypeOrmModule.forRoot(dataSourceOptions(config.databaseUrl, config.postgres)),
        MessagingModule.forRoot(config, {
          // `npm run replay` reads a decision's event from here (the ledger holds only its commitment).
          keepOutboxTopics: [Topics.ClaimsAdjudicated],
          retention: [idempotencyKeysRetention(config.retention.idempotencyKeysMs)],
        }),
        HealthModule.forRoot(MESSAGING_PROBES),
        AuthModule.forRoot(config.auth),
        PayoutMetricsModule,
        LedgerTrustModule.forRoot(config.ledger),
        ContractSettingsModule.forRoot(config.demoContract),
        AdjudicationPoolModule.forRoot(config.adjudication),
        ContractsModule,
        PoliciesModule,
        AdjudicationModule,
        ReviewsModule,
        RemittanceModule,
        PaymentsModule.forRoot(config.payments),
      ],
    };
  }
}
