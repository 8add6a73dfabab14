/**
 * What code outside ledger-anchoring may use of it: the ops commands under scripts/ and the benches (dependency-cruiser
 * `outside-code-uses-app-entry-points`). The service itself starts from main.ts. The component bench measures the
 * append, checkpoint, anchor and read paths on their own, so their services are here too.
 */
export { dataSourceOptions } from './persistence/data-source.options';
export { loadLedgerAnchoringConfig } from './ledger-anchoring.config';
export type { LedgerAnchoringConfig } from './ledger-anchoring.config';
export { runLedgerAudit, EXIT as LEDGER_AUDIT_EXIT } from './log/audit/ledger-audit.command';
export { LedgerRepository } from './persistence/ledger.repository';
export type { NewLeaf } from './persistence/ledger.repository';
export { LedgerAppenderService } from './log/append/ledger-appender.service';
export { DomainEventsConsumer } from './log/append/domain-events.consumer';
export { CheckpointService } from './log/checkpoint/checkpoint.service';
export { LatestCheckpointCache } from './log/checkpoint/latest-checkpoint.cache';
export { NOTE_SIGNER } from './log/checkpoint/note-signer.provider';
export { AnchorPublisher } from './log/anchor/anchor-publisher.service';
export { LedgerAuditService } from './log/audit/ledger-audit.service';
export { LedgerReadService } from './log/read/ledger-read.service';
export { LedgerReadHttpController } from './log/read/ledger-read.http.controller';
