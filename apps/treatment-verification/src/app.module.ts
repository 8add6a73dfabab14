import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuthModule, HealthModule, idempotencyKeysRetention } from '@claimchain/http';
import { MESSAGING_PROBES, MessagingModule } from '@claimchain/messaging';
import { dataSourceOptions } from './persistence/data-source.options';
import { ConfirmationsRepository, endedConfirmationsRetention } from './confirmations/confirmations.repository';
import {
  ConfirmTreatmentService,
  MAX_PENDING_PER_PROVIDER,
} from './confirmations/confirm-treatment/confirm-treatment.service';
import { ConfirmTreatmentHttpController } from './confirmations/confirm-treatment/confirm-treatment.http.controller';
import { ReadConfirmationsHttpController } from './confirmations/read-confirmations/read-confirmations.http.controller';
import { WithdrawConfirmationHttpController } from './confirmations/withdraw-confirmation/withdraw-confirmation.http.controller';
import { WithdrawConfirmationService } from './confirmations/withdraw-confirmation/withdraw-confirmation.service';
import { PayoutAnswersConsumer } from './confirmations/payout-answers/payout-answers.consumer';
import { AwaitingConfirmationHttpController } from './confirmations/awaiting-confirmation/awaiting-confirmation.http.controller';
import { PendingConfirmationsExpiry } from './confirmations/expire-pending/pending-confirmations.expiry';
import { ClaimsSubmittedConsumer } from './confirmations/track-claims/claims-submitted.consumer';
import { ClaimsCancelledConsumer } from './confirmations/track-claims/claims-cancelled.consumer';
import { AttestationsRepository } from './attestations/attestations.repository';
import { SignaturePolicy, SIGNATURES_REQUIRED_BY_DEFAULT } from './attestations/signature-policy';
import { ProviderKeysHttpController } from './attestations/provider-keys.http.controller';
import { AttestationPolicyHttpController } from './attestations/attestation-policy.http.controller';
import { TreatmentVerificationConfig } from './treatment-verification.config';

/**
 * treatment-verification: providers confirm what they performed, signed with keys ops register; matched claims
 * become verified.
 */
@Module({})
export class TreatmentVerificationModule {
  static forRoot(config: TreatmentVerificationConfig): DynamicModule {
    return {
      module: TreatmentVerificationModule,
      imports: [
        TypeOrmModule.forRoot(dataSourceOptions(config.databaseUrl, config.postgres)),
        MessagingModule.forRoot(config, {
          retention: [
            idempotencyKeysRetention(config.retention.idempotencyKeysMs),
            endedConfirmationsRetention(config.pendingConfirmations.ttlMs),
          ],
        }),
        HealthModule.forRoot(MESSAGING_PROBES),
        AuthModule.forRoot(config.auth),
      ],
      controllers: [
        ConfirmTreatmentHttpController,
        ReadConfirmationsHttpController,
        WithdrawConfirmationHttpController,
        AwaitingConfirmationHttpController,
        ProviderKeysHttpController,
        AttestationPolicyHttpController,
        ClaimsSubmittedConsumer,
        ClaimsCancelledConsumer,
        PayoutAnswersConsumer,
      ],
      providers: [
        ConfirmationsRepository,
        ConfirmTreatmentService,
        WithdrawConfirmationService,
        AttestationsRepository,
        SignaturePolicy,
        { provide: SIGNATURES_REQUIRED_BY_DEFAULT, useValue: config.signedConfirmationsRequiredByDefault },
        { provide: MAX_PENDING_PER_PROVIDER, useValue: config.pendingConfirmations.maxPerProvider },
        {
          provide: PendingConfirmationsExpiry,
          inject: [DataSource, ConfirmationsRepository],
          useFactory: (ds: DataSource, repo: ConfirmationsRepository) =>
            new PendingConfirmationsExpiry(ds, repo, {
              ttlMs: config.pendingConfirmations.ttlMs,
              intervalMs: config.retention.pruneIntervalMs,
              batchSize: config.retention.pruneBatchSize,
            }),
        },
      ],
    };
  }
}
