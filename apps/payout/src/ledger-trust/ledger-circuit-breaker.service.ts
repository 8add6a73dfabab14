import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { verifyConsistency } from '@claimchain/ledger';
import { PermanentEventError } from '@claimchain/messaging';
import { LedgerTrustRepository } from './ledger-trust.repository';
import { checkAnchor, checkpointOf, provableAnchor, StoredAnchorEvidence } from './anchor-check';
import { LedgerProofSource } from './ledger-proof.source';

/** Raised while the breaker is open: retriable, so the event waits in its DLQ to be replayed after a reset. */
export class LedgerCircuitOpenError extends Error {}

/**
 * Payout pays only on a ledger it can check. Before a claim is adjudicated its anchor must verify (checkAnchor), and
 * the anchor's checkpoint must belong to the one append-only history payout has seen: a checkpoint of a size seen
 * before must have the same root, and a new one must be RFC 9162 consistent with the largest seen so far (a proof
 * fetched from the ledger, checked against the two roots payout already holds). New checkpoints are recorded one at a
 * time, so every recorded checkpoint is a proven prefix of the largest. Any failure opens the breaker (committed on
 * its own, so it stays open although the triggering event fails), logs an ALERT, and from then on no claim is paid
 * until ops reset it (`POST /v1/ops/ledger-circuit/reset`) and replay the dead letters. A ledger that cannot be
 * reached is not evidence of tampering: the event fails retriably and nothing is paid.
 */
@Injectable()
export class LedgerCircuitBreakerService {
  private readonly logger = new Logger(LedgerCircuitBreakerService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: LedgerTrustRepository,
    private readonly proofs: LedgerProofSource,
    /** Keys whose signatures are accepted (current first; two during a rotation); none: signatures unchecked. */
    private readonly verifierKeys: readonly string[],
  ) {}

  /** Throws unless the breaker is closed and the anchor checks out; opens the breaker when it does not. */
  async assertTrusted(em: EntityManager, evidence: StoredAnchorEvidence): Promise<void> {
    await this.assertOpenForPayment(em);
    await this.assertAnchorTrusted(em, evidence);
  }

  /** Throws while the breaker is open (nothing is paid until ops reset it). */
  async assertOpenForPayment(em: EntityManager): Promise<void> {
    const circuit = await this.repo.circuit(em);
    if (circuit.open) throw new LedgerCircuitOpenError(`ledger circuit breaker is open: ${circuit.reason}`);
  }

  /**
   * Checks one anchor (call assertOpenForPayment first); opens the breaker when it does not check out. `checked`
   * holds the checkpoint notes already placed in the history by this transaction: each is looked up once. An anchor
   * without its proof is refused (permanently, the breaker stays closed: see provableAnchor).
   */
  async assertAnchorTrusted(
    em: EntityManager,
    stored: StoredAnchorEvidence,
    checked = new Set<string>(),
  ): Promise<void> {
    const evidence = provableAnchor(stored);
    if (typeof evidence === 'string') throw new PermanentEventError(evidence);
    let problem = checkAnchor(evidence, this.verifierKeys);
    if (!problem && !checked.has(evidence.checkpoint)) {
      problem = await this.checkHistory(em, evidence.checkpoint);
      if (!problem) checked.add(evidence.checkpoint);
    }
    if (problem) await this.trip(problem);
  }

  /** The problem with the checkpoint's place in the history seen so far, recording it when it has none. */
  private async checkHistory(em: EntityManager, note: string): Promise<string | undefined> {
    const { size, root } = checkpointOf(note, this.verifierKeys);
    let seen = await this.repo.seenCheckpoint(em, size);
    if (seen === undefined) {
      await this.repo.lockCheckpointChain(em);
      seen = await this.repo.seenCheckpoint(em, size);
    }
    if (seen !== undefined) {
      return seen === root ? undefined : `two checkpoints of tree size ${size} with different roots: the log forked`;
    }
    // The first checkpoint ever seen is trusted as it is (its signature is checked); every later one is proven.
    const largest = await this.repo.largestSeenCheckpoint(em);
    if (largest) {
      const [older, newer] = largest.size < size ? [largest, { size, root }] : [{ size, root }, largest];
      const proof = await this.proofs.consistencyProof(older.size, newer.size);
      try {
        verifyConsistency(
          older.size,
          newer.size,
          proof.map((h) => Buffer.from(h, 'base64')),
          Buffer.from(older.root, 'base64'),
          Buffer.from(newer.root, 'base64'),
        );
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        return `checkpoint of tree size ${newer.size} is not consistent with tree size ${older.size}: the log was rewritten (${why})`;
      }
    }
    await this.repo.recordCheckpoint(em, size, root);
    return undefined;
  }

  /** Opens the breaker in a transaction of its own and fails the caller permanently. */
  async trip(problem: string): Promise<never> {
    this.logger.error(`ALERT: ledger check failed, payouts stopped: ${problem}`);
    await this.dataSource.transaction((em) => this.repo.setCircuit(em, true, problem, 'payout'));
    throw new PermanentEventError(problem);
  }
}
