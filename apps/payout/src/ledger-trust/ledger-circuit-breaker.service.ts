import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { verifyConsistency } from '@claimchain/ledger';
import { PermanentEventError, TransientEventError } from '@claimchain/messaging';
import { LedgerTrustRepository } from './ledger-trust.repository';
import { checkAnchor, checkpointOf, provableAnchor, StoredAnchorEvidence } from './anchor-check';
import { LedgerProofSource } from './ledger-proof.source';

type Checkpoint = { size: number; root: string };

/** Raised while the breaker is open: retriable, so the event waits in its DLQ to be replayed after a reset. */
export class LedgerCircuitOpenError extends Error {}

/** An anchor that does not prove what it says (its proof, checkpoint signature or root): refused, nothing paid. */
export class UnprovenAnchorError extends PermanentEventError {}

/**
 * The ledger's consistency proof between two checkpoints payout holds does not verify. Only the proof is wrong as far
 * as payout can tell (it came over the network, from a source that need not be trusted), so the event waits and
 * retries, reported in the logs and by the consumer's health, rather than stopping every payment (ADR 11).
 */
export class LedgerProofInvalidError extends TransientEventError {}

/**
 * Payout pays only on a ledger it can check. Before a claim is adjudicated its anchor must verify (checkAnchor), and
 * the anchor's checkpoint must belong to the one append-only history payout has seen: a checkpoint of a size seen
 * before must have the same root, and a new one must be RFC 9162 consistent with the largest seen so far (a proof
 * fetched from the ledger, checked against the two roots payout already holds). A batch's new checkpoints are taken in
 * ascending order under one lock, each proven against the largest before it (the one seen, or the batch's previous
 * one), so every recorded checkpoint is a proven prefix of the largest.
 *
 * What each failure does (ADR 11; the breaker stops every insurer's payments, so only proof that the ledger lies
 * opens it):
 * - two checkpoints, both signed by the ledger's key, of one tree size with different roots: the log forked. The
 *   breaker opens (committed on its own, so it stays open although the triggering event fails), an ALERT is logged,
 *   and no claim is paid until ops reset it (`POST /v1/ops/ledger-circuit/reset`) and replay the dead letters.
 * - an anchor that does not prove itself (inclusion proof, signature, root, or a leaf that is not the verification
 *   payout holds): that claim is refused (dead-lettered with the reason, logged as an ALERT); anyone who can write
 *   to the topic could send such an anchor, so it stops nothing else.
 * - a consistency proof that does not verify, or a ledger that cannot be reached: retriable; the event waits, the
 *   consumer's health names what it waits for, and nothing is paid on that checkpoint until a proof verifies.
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
   * Checks one anchor (call assertOpenForPayment first); opens the breaker when it does not check out. An anchor
   * without its proof is refused (permanently, the breaker stays closed: see provableAnchor).
   */
  async assertAnchorTrusted(em: EntityManager, stored: StoredAnchorEvidence): Promise<void> {
    await this.placeInHistory(em, [this.checkAnchorEvidence(stored)]);
  }

  /**
   * The part of an anchor's check that is about the anchor alone, with no I/O: its proof, checkpoint signature and
   * root (UnprovenAnchorError, that claim's own failure). Returns its checkpoint note, which must then be placed in
   * the history (placeInHistory) before anything is paid on it.
   */
  checkAnchorEvidence(stored: StoredAnchorEvidence): string {
    const evidence = provableAnchor(stored);
    if (typeof evidence === 'string') throw new UnprovenAnchorError(evidence);
    const problem = checkAnchor(evidence, this.verifierKeys);
    if (problem) this.refuse(problem);
    return evidence.checkpoint;
  }

  /** Refuses one anchor (the claim is not paid; its event is dead-lettered with the reason), loudly. */
  refuse(problem: string): never {
    this.logger.error(`ALERT: ledger anchor refused, its claim is not paid: ${problem}`);
    throw new UnprovenAnchorError(problem);
  }

  /**
   * Places checkpoints (notes that checkAnchorEvidence accepted) in the history seen so far, recording the new ones,
   * or throws as the class comment says. A batch's checkpoints are looked up in one query, and the consistency
   * proofs of its new ones fetched together: each new checkpoint is still proven against the largest recorded before
   * it (in ascending order, so a run of new ones forms a chain from the largest seen), exactly as one at a time.
   */
  async placeInHistory(em: EntityManager, notes: Iterable<string>): Promise<void> {
    const roots = new Map<number, string>();
    for (const note of new Set(notes)) {
      const { size, root } = checkpointOf(note, this.verifierKeys);
      if ((roots.get(size) ?? root) !== root) await this.forked(size);
      roots.set(size, root);
    }
    if (roots.size === 0) return;
    let seen = await this.repo.seenCheckpoints(em, [...roots.keys()]);
    if (seen.size < roots.size) {
      await this.repo.lockCheckpointChain(em);
      seen = await this.repo.seenCheckpoints(em, [...roots.keys()]);
    }
    for (const [size, root] of seen) if (roots.get(size) !== root) await this.forked(size);
    const fresh = [...roots]
      .filter(([size]) => !seen.has(size))
      .map(([size, root]) => ({ size, root }))
      .sort((a, b) => a.size - b.size);
    if (fresh.length === 0) return;
    // The first checkpoint ever seen is trusted as it is (its signature is checked); every later one is proven.
    let largest = await this.repo.largestSeenCheckpoint(em);
    const pairs: { older: Checkpoint; newer: Checkpoint; proving: Checkpoint }[] = [];
    for (const point of fresh) {
      if (!largest) largest = point;
      else if (largest.size < point.size) {
        pairs.push({ older: largest, newer: point, proving: point });
        largest = point;
      } else pairs.push({ older: point, newer: largest, proving: point });
    }
    const proofs = await Promise.all(pairs.map((p) => this.proofs.consistencyProof(p.older.size, p.newer.size)));
    pairs.forEach(({ older, newer, proving }, k) => {
      try {
        verifyConsistency(
          older.size,
          newer.size,
          proofs[k].map((h) => Buffer.from(h, 'base64')),
          Buffer.from(older.root, 'base64'),
          Buffer.from(newer.root, 'base64'),
        );
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        const problem = `the ledger's consistency proof from tree size ${older.size} to ${newer.size} does not verify (${why}): payments on checkpoint ${proving.size} wait until one does`;
        this.logger.error(problem);
        throw new LedgerProofInvalidError(problem);
      }
    });
    await this.repo.recordCheckpoints(em, fresh);
  }

  private forked(size: number): Promise<never> {
    return this.trip(`two checkpoints of tree size ${size} with different roots: the log forked`);
  }

  /** Opens the breaker in a transaction of its own and fails the caller permanently. */
  async trip(problem: string): Promise<never> {
    this.logger.error(`ALERT: ledger check failed, payouts stopped: ${problem}`);
    await this.dataSource.transaction((em) => this.repo.setCircuit(em, true, problem, 'payout'));
    throw new PermanentEventError(problem);
  }
}
