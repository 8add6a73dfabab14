import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { PermanentEventError } from '@claimchain/messaging';
import { PayoutRepository } from '../persistence/payout.repository';
import { AnchorEvidence, checkAnchor, checkpointOf } from './anchor-check';

/** Raised while the breaker is open: retriable, so the event waits in its DLQ to be replayed after a reset. */
export class LedgerCircuitOpenError extends Error {}

/**
 * Payout pays only on a ledger it can check. Before a claim is adjudicated its anchor must verify (checkAnchor) and
 * the anchor's checkpoint must agree with every checkpoint of that size seen before; any failure opens the breaker
 * (committed on its own, so it stays open although the triggering event fails), logs an ALERT, and from then on no
 * claim is paid until ops reset it (`POST /v1/ops/ledger-circuit/reset`) and replay the dead letters.
 */
@Injectable()
export class LedgerCircuitBreakerService {
  private readonly logger = new Logger(LedgerCircuitBreakerService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: PayoutRepository,
    private readonly verifierKey: string | undefined,
  ) {}

  /** Throws unless the breaker is closed and the anchor checks out; opens the breaker when it does not. */
  async assertTrusted(em: EntityManager, evidence: AnchorEvidence): Promise<void> {
    const circuit = await this.repo.circuit(em);
    if (circuit.open) throw new LedgerCircuitOpenError(`ledger circuit breaker is open: ${circuit.reason}`);
    let problem = checkAnchor(evidence, this.verifierKey);
    if (!problem) {
      const { size, root } = checkpointOf(evidence.checkpoint, this.verifierKey);
      const seen = await this.repo.rememberCheckpoint(em, size, root);
      if (seen !== root) problem = `two checkpoints of tree size ${size} with different roots: the log forked`;
    }
    if (problem) await this.trip(problem);
  }

  /** Opens the breaker in a transaction of its own and fails the caller permanently. */
  async trip(problem: string): Promise<never> {
    this.logger.error(`ALERT: ledger check failed, payouts stopped: ${problem}`);
    await this.dataSource.transaction((em) => this.repo.setCircuit(em, true, problem, 'payout'));
    throw new PermanentEventError(problem);
  }
}
