import { DynamicModule, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PayoutConfig } from '../payout.config';
import { LedgerTrustRepository } from './ledger-trust.repository';
import { LedgerCircuitBreakerService } from './ledger-circuit-breaker.service';
import { LedgerCircuitHttpController } from './ledger-circuit.http.controller';
import { HttpLedgerProofSource } from './ledger-proof.source';

/**
 * Ledger trust: the checkpoints payout has proven consistent, and the circuit breaker that stops every payment when
 * the ledger does not check out (with its ops endpoints). Global because it is configured once, at the root, and
 * nothing may pay without passing it.
 */
@Module({})
export class LedgerTrustModule {
  static forRoot(ledger: Pick<PayoutConfig['ledger'], 'url' | 'verifierKeys'>): DynamicModule {
    return {
      module: LedgerTrustModule,
      global: true,
      controllers: [LedgerCircuitHttpController],
      providers: [
        LedgerTrustRepository,
        {
          provide: LedgerCircuitBreakerService,
          inject: [DataSource, LedgerTrustRepository],
          useFactory: (ds: DataSource, repo: LedgerTrustRepository) =>
            new LedgerCircuitBreakerService(ds, repo, new HttpLedgerProofSource(ledger.url), ledger.verifierKeys),
        },
      ],
      exports: [LedgerCircuitBreakerService],
    };
  }
}
