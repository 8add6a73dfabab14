import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule, HealthModule, idempotencyKeysRetention } from '@claimchain/http';
import { MESSAGING_PROBES, MessagingModule } from '@claimchain/messaging';
import { MetricsRegistry } from '@claimchain/observability';
import { dataSourceOptions } from './persistence/data-source.options';
import { ClaimsRepository } from './claims/claims.repository';
import { SubmitClaimService } from './claims/submit-claim/submit-claim.service';
import { ClaimSubmissionBatcher } from './claims/claim-store/claim-submission.batcher';
import { ClaimStoreThread } from './claims/claim-store/claim-store.thread';
import { SubmitClaimHttpController } from './claims/submit-claim/submit-claim.http.controller';
import { GetClaimHttpController } from './claims/get-claim/get-claim.http.controller';
import { GetSubmissionHttpController } from './claims/get-submission/get-submission.http.controller';
import { ClaimStatusConsumer } from './claims/track-status/claim-status.consumer';
import { ClaimFlowMetrics } from './claims/track-status/claim-flow.metrics';
import { CancelClaimService } from './claims/cancel-claim/cancel-claim.service';
import { CancelClaimHttpController } from './claims/cancel-claim/cancel-claim.http.controller';
import { ListClaimsHttpController } from './claims/list-claims/list-claims.http.controller';
import { GetReceiptHttpController, LEDGER_VERIFIER_KEY } from './claims/get-receipt/get-receipt.http.controller';
import { ClaimIntakeConfig } from './claim-intake.config';

/** claim-intake: the insurer-facing claims API and the claim status read model. */
@Module({})
export class ClaimIntakeModule {
  static forRoot(config: ClaimIntakeConfig): DynamicModule {
    return {
      module: ClaimIntakeModule,
      imports: [
        TypeOrmModule.forRoot(dataSourceOptions(config.databaseUrl, config.postgres)),
        MessagingModule.forRoot(config, {
          retention: [idempotencyKeysRetention(config.retention.idempotencyKeysMs)],
        }),
        HealthModule.forRoot(MESSAGING_PROBES),
        AuthModule.forRoot(config.auth),
      ],
      controllers: [
        SubmitClaimHttpController,
        ListClaimsHttpController,
        GetClaimHttpController,
        GetSubmissionHttpController,
        CancelClaimHttpController,
        GetReceiptHttpController,
        ClaimStatusConsumer,
      ],
      providers: [
        ClaimsRepository,
        {
          provide: ClaimFlowMetrics,
          inject: [MetricsRegistry],
          useFactory: (registry: MetricsRegistry) => new ClaimFlowMetrics(registry),
        },
        { provide: LEDGER_VERIFIER_KEY, useValue: config.ledger.verifierKey ?? '' },
        CancelClaimService,
        {
          provide: ClaimStoreThread,
          useFactory: () =>
            new ClaimStoreThread({
              databaseUrl: config.databaseUrl,
              connections: 3,
              postgres: config.postgres,
              eventKeys: config.events,
            }),
        },
        {
          provide: ClaimSubmissionBatcher,
          inject: [ClaimStoreThread],
          useFactory: (store: ClaimStoreThread) => new ClaimSubmissionBatcher(store, config.claimQueueMax),
        },
        {
          provide: SubmitClaimService,
          inject: [ClaimSubmissionBatcher],
          useFactory: (batcher: ClaimSubmissionBatcher) => new SubmitClaimService(batcher, config.pseudonymKey),
        },
      ],
    };
  }
}
