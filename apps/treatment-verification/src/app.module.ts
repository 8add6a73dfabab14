import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ServiceConfig } from '@claimchain/config';
import { AuthModule, HealthModule } from '@claimchain/http';
import { MESSAGING_PROBES, MessagingModule } from '@claimchain/messaging';
import { dataSourceOptions } from './persistence/data-source.options';
import { ConfirmationsRepository, pendingConfirmationsRetention } from './confirmations/confirmations.repository';
import {
  ConfirmTreatmentService,
  MAX_PENDING_PER_PROVIDER,
} from './confirmations/confirm-treatment/confirm-treatment.service';
import { ConfirmTreatmentHttpController } from './confirmations/confirm-treatment/confirm-treatment.http.controller';
import { ClaimsSubmittedConsumer } from './confirmations/track-claims/claims-submitted.consumer';

/** treatment-verification: providers confirm what they performed; matched claims become verified. */
@Module({})
export class TreatmentVerificationModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: TreatmentVerificationModule,
      imports: [
        TypeOrmModule.forRoot(dataSourceOptions(config.databaseUrl, config.postgres)),
        MessagingModule.forRoot(config, {
          retention: [pendingConfirmationsRetention(config.pendingConfirmations.ttlMs)],
        }),
        HealthModule.forRoot(MESSAGING_PROBES),
        AuthModule.forRoot(config.auth),
      ],
      controllers: [ConfirmTreatmentHttpController, ClaimsSubmittedConsumer],
      providers: [
        ConfirmationsRepository,
        ConfirmTreatmentService,
        { provide: MAX_PENDING_PER_PROVIDER, useValue: config.pendingConfirmations.maxPerProvider },
      ],
    };
  }
}
