import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ServiceConfig } from '@claimchain/config';
import { Topics } from '@claimchain/contracts';
import { AuthModule, HealthModule, idempotencyKeysRetention } from '@claimchain/http';
import { MESSAGING_PROBES, MessagingModule, OutboxWriter } from '@claimchain/messaging';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './persistence/data-source.options';
import { AdjudicationRepository } from './adjudication/adjudication.repository';
import { ContractRepository } from './contracts/contract.repository';
import { PolicyRepository } from './policies/policy.repository';
import { ReviewRepository } from './reviews/review.repository';
import { RemittanceRepository } from './remittance/remittance.repository';
import { LedgerTrustRepository } from './ledger-trust/ledger-trust.repository';
import { AdjudicateClaimService } from './adjudication/adjudicate-claim.service';
import { PayoutTriggersConsumer } from './adjudication/payout-triggers.consumer';
import { ContractSeederService } from './contracts/contract-seeder.service';
import { PublishContractService } from './contracts/publish-contract/publish-contract.service';
import { PublishContractHttpController } from './contracts/publish-contract/publish-contract.http.controller';
import { ReadContractsHttpController } from './contracts/read-contracts/read-contracts.http.controller';
import { SimulateContractHttpController } from './contracts/simulate-contract/simulate-contract.http.controller';
import { EnrolPolicyService } from './policies/enrol-policy/enrol-policy.service';
import { EnrolPolicyHttpController } from './policies/enrol-policy/enrol-policy.http.controller';
import { GetPolicyHttpController } from './policies/get-policy/get-policy.http.controller';
import { ListReviewsHttpController } from './reviews/list-reviews/list-reviews.http.controller';
import { DecideReviewService } from './reviews/decide-review/decide-review.service';
import { DecideReviewHttpController } from './reviews/decide-review/decide-review.http.controller';
import { GetRemittanceHttpController } from './remittance/get-remittance/get-remittance.http.controller';
import { GetExplanationOfBenefitHttpController } from './remittance/get-explanation-of-benefit/get-explanation-of-benefit.http.controller';
import { RemittanceReader } from './remittance/remittance.reader';
import { LedgerCircuitBreakerService } from './ledger-trust/ledger-circuit-breaker.service';
import { LedgerCircuitHttpController } from './ledger-trust/ledger-circuit.http.controller';
import { HttpLedgerProofSource } from './ledger-trust/ledger-proof.source';
import { SimulatedBankRail } from './payments/simulated-bank.rail';
import { PayoutDispatcherService } from './payments/payout-dispatcher.service';
import { PaymentDispatchRepository } from './payments/payment-dispatch.repository';
import { InsurerPaymentRails } from './payments/payment-rails';
import { PayoutEndpointRepository } from './payments/payout-endpoint/payout-endpoint.repository';
import { PayoutEndpointService } from './payments/payout-endpoint/payout-endpoint.service';
import {
  PAYOUT_ENDPOINT_POLICY,
  PayoutEndpointHttpController,
} from './payments/payout-endpoint/payout-endpoint.http.controller';
import { WebhookSecretCipher } from './payments/payout-endpoint/webhook-secret.cipher';
import { ListPayoutsHttpController } from './payments/list-payouts/list-payouts.http.controller';
import { RetryPayoutHttpController } from './payments/retry-payout/retry-payout.http.controller';
import { RetryPayoutService } from './payments/retry-payout/retry-payout.service';

/**
 * payout: insurers publish contracts (json-rules-engine rule sets plus parameters) and enrol policies; the contract
 * adjudicates anchored, verified claims line by line against the policy's accumulators and pays exactly once.
 */
@Module({})
export class PayoutModule {
  static forRoot(config: ServiceConfig): DynamicModule {
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
      ],
      controllers: [
        PublishContractHttpController,
        ReadContractsHttpController,
        SimulateContractHttpController,
        EnrolPolicyHttpController,
        GetPolicyHttpController,
        ListReviewsHttpController,
        DecideReviewHttpController,
        GetRemittanceHttpController,
        GetExplanationOfBenefitHttpController,
        LedgerCircuitHttpController,
        PayoutEndpointHttpController,
        ListPayoutsHttpController,
        RetryPayoutHttpController,
        PayoutTriggersConsumer,
      ],
      providers: [
        AdjudicationRepository,
        ContractRepository,
        PolicyRepository,
        ReviewRepository,
        RemittanceRepository,
        LedgerTrustRepository,
        AdjudicateClaimService,
        PublishContractService,
        EnrolPolicyService,
        DecideReviewService,
        RemittanceReader,
        ContractSeederService,
        {
          provide: LedgerCircuitBreakerService,
          inject: [DataSource, LedgerTrustRepository],
          useFactory: (ds: DataSource, repo: LedgerTrustRepository) =>
            new LedgerCircuitBreakerService(
              ds,
              repo,
              new HttpLedgerProofSource(config.ledger.url),
              config.ledger.verifierKeys,
            ),
        },
        PayoutEndpointRepository,
        PayoutEndpointService,
        PaymentDispatchRepository,
        RetryPayoutService,
        { provide: WebhookSecretCipher, useFactory: () => new WebhookSecretCipher(config.payments.webhookSecretKey) },
        {
          provide: PAYOUT_ENDPOINT_POLICY,
          useValue: {
            allowHttp: config.payments.webhookAllowHttp,
            allowLoopback: config.payments.webhookAllowLoopback,
          },
        },
        // Each insurer's registered webhook, else the simulated bank.
        {
          provide: PayoutDispatcherService,
          inject: [DataSource, PaymentDispatchRepository, OutboxWriter, WebhookSecretCipher],
          useFactory: (
            ds: DataSource,
            repo: PaymentDispatchRepository,
            outbox: OutboxWriter,
            cipher: WebhookSecretCipher,
          ) =>
            new PayoutDispatcherService(
              ds,
              repo,
              outbox,
              new InsurerPaymentRails(new SimulatedBankRail(), cipher, {
                timeoutMs: config.payments.webhookTimeoutMs,
                allowLoopback: config.payments.webhookAllowLoopback,
              }),
              {
                maxAttempts: config.payments.maxAttempts,
                retryBaseMs: config.payments.retryBaseMs,
                retryMaxMs: config.payments.retryMaxMs,
              },
            ),
        },
      ],
    };
  }
}
