import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { HealthModule } from '@claimchain/http';
import { MESSAGING_PROBES, MessagingModule } from '@claimchain/messaging';
import { MetricsRegistry } from '@claimchain/observability';
import { dataSourceOptions } from './persistence/data-source.options';
import { LedgerRepository } from './persistence/ledger.repository';
import { LedgerAppenderService } from './log/append/ledger-appender.service';
import { DomainEventsConsumer } from './log/append/domain-events.consumer';
import { LEAF_SALTER, loadLeafSalter } from './log/append/leaf-salt.key';
import { CheckpointService, SERVICE_CONFIG } from './log/checkpoint/checkpoint.service';
import { loadNoteSigner, NOTE_SIGNER } from './log/checkpoint/note-signer.provider';
import { LatestCheckpointCache } from './log/checkpoint/latest-checkpoint.cache';
import { ANCHOR_SINKS } from './log/anchor/anchor-sink';
import { anchorSinksFrom } from './log/anchor/anchor-sinks.config';
import { AnchorPublisher } from './log/anchor/anchor-publisher.service';
import { LedgerReadService } from './log/read/ledger-read.service';
import { LedgerReadHttpController } from './log/read/ledger-read.http.controller';
import { EARLIER_VERIFIER_KEYS, LedgerAuditService } from './log/audit/ledger-audit.service';
import { LedgerMetrics } from './log/ledger.metrics';
import { LedgerAnchoringConfig } from './ledger-anchoring.config';

/** ledger-anchoring: the RFC 9162 Merkle log of every domain event, signed checkpoints, anchors, proofs. */
@Module({})
export class LedgerAnchoringModule {
  static forRoot(config: LedgerAnchoringConfig): DynamicModule {
    return {
      module: LedgerAnchoringModule,
      imports: [
        TypeOrmModule.forRoot(dataSourceOptions(config.databaseUrl, config.postgres)),
        MessagingModule.forRoot(config),
        HealthModule.forRoot(MESSAGING_PROBES),
      ],
      controllers: [DomainEventsConsumer, LedgerReadHttpController],
      providers: [
        { provide: SERVICE_CONFIG, useValue: config },
        { provide: NOTE_SIGNER, useFactory: () => loadNoteSigner(config) },
        { provide: LEAF_SALTER, useFactory: () => loadLeafSalter(config) },
        { provide: ANCHOR_SINKS, useFactory: () => anchorSinksFrom(config.ledger) },
        LedgerRepository,
        {
          provide: LedgerMetrics,
          inject: [MetricsRegistry, DataSource],
          useFactory: (registry: MetricsRegistry, ds: DataSource) => new LedgerMetrics(registry, ds),
        },
        LedgerAppenderService,
        AnchorPublisher,
        LatestCheckpointCache,
        CheckpointService,
        LedgerReadService,
        LedgerAuditService,
        { provide: EARLIER_VERIFIER_KEYS, useValue: config.ledger.verifierKeys },
      ],
    };
  }
}
