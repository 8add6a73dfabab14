import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ServiceConfig } from '@claimchain/config';
import { AuthModule, HealthModule } from '@claimchain/http';
import { MESSAGING_PROBES, MessagingModule } from '@claimchain/messaging';
import { dataSourceOptions } from './persistence/data-source.options';
import { PayoutRepository } from './persistence/payout.repository';
import { AdjudicateClaimService } from './adjudication/adjudicate-claim.service';
import { PayoutTriggersConsumer } from './adjudication/payout-triggers.consumer';
import { ContractSeederService } from './contracts/contract-seeder.service';

/** payout: the smart contract (json-rules-engine) adjudicates anchored, verified claims and pays exactly once. */
@Module({})
export class PayoutModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: PayoutModule,
      imports: [
        TypeOrmModule.forRoot(dataSourceOptions(config.databaseUrl)),
        MessagingModule.forRoot(config),
        HealthModule.forRoot(MESSAGING_PROBES),
        AuthModule.forRoot(config.auth),
      ],
      controllers: [PayoutTriggersConsumer],
      providers: [PayoutRepository, AdjudicateClaimService, ContractSeederService],
    };
  }
}
