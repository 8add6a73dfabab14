import { Inject, Injectable, Optional } from '@nestjs/common';
import { Registry } from 'prom-client';
import { EntityManager } from 'typeorm';
import { CloudEvent } from '@claimchain/wire';
import { appendLeaves, hashLeaf, leafCommitment, rootRefs, TreeNode } from '@claimchain/ledger';
import { LedgerRepository, NewLeaf } from '../../persistence/ledger.repository';
import { LedgerMetrics } from '../ledger.metrics';
import { LEAF_SALTER, LeafSalter } from './leaf-salt.key';

export interface AppendResult {
  /** Leaves appended by this call (events already in the log are skipped). */
  appended: number;
  /** The log's size after the append. */
  size: number;
}

/**
 * Appends events to the log as RFC 9162 leaves (the commitment, never the data). Runs inside the consumer's inbox
 * transaction under the sequencer lock, so the leaves, their completed subtree nodes and "events processed" commit
 * together, and indices are gapless even with several replicas. A batch costs three statements, as one event does:
 * the lock; size, dedupe and frontier in one read; leaves, nodes and the NOTIFY in one write. (Round trips, not
 * rows, are what an append pays for on a small machine: each one wakes the database.)
 */
@Injectable()
export class LedgerAppenderService {
  constructor(
    private readonly repo: LedgerRepository,
    private readonly metrics: LedgerMetrics = new LedgerMetrics(new Registry()),
    /** Unset (a bench or test building the service by hand): v1 (unsalted) leaves, as before salting. */
    @Optional() @Inject(LEAF_SALTER) private readonly salter?: LeafSalter,
  ) {}

  /** Returns the new leaf's index, or undefined when the event was already in the log. */
  async append(em: EntityManager, event: CloudEvent): Promise<number | undefined> {
    const { appended, size } = await this.appendBatch(em, [event]);
    return appended === 1 ? size - 1 : undefined;
  }

  /**
   * Appends `events` in order, skipping any whose id the log (or an earlier event of the batch) already holds: the
   * log is deduplicated by event id whatever the inbox saw, so replaying every topic leaves it unchanged.
   */
  async appendBatch(em: EntityManager, events: readonly CloudEvent[]): Promise<AppendResult> {
    const done = this.metrics.appendSeconds.startTimer();
    try {
      return await this.appendInOrder(em, events);
    } finally {
      done();
    }
  }

  private async appendInOrder(em: EntityManager, events: readonly CloudEvent[]): Promise<AppendResult> {
    // Commitments and leaf hashes are pure CPU: compute them before taking the lock, so another partition's batch
    // can be hashed while this one's rows are written.
    // Keyed by the id as Postgres spells a uuid (lowercase), which is how the dedupe query answers.
    const candidates = new Map<string, Omit<NewLeaf, 'index'> & { event: CloudEvent }>();
    for (const event of events) {
      const id = event.id.toLowerCase();
      if (candidates.has(id)) continue; // a Kafka batch may carry the same event twice
      // Salted (v2, ADR 16) unless the index it gets turns out to be before salting began (rebuilt below).
      const dataSalt = this.salter ? this.salter.saltOf(event.id) : null;
      const leaf = leafCommitment(event, dataSalt);
      candidates.set(id, {
        eventId: event.id,
        eventType: event.type,
        subject: event.subject,
        correlationId: event.correlationid,
        leaf,
        leafHash: hashLeaf(leaf),
        dataSalt,
        event,
      });
    }

    await this.repo.lockSequencer(em);
    const { size, existing, frontier } = await this.repo.appendState(em, [...candidates.keys()]);
    const leaves: NewLeaf[] = [];
    for (const [id, { event, ...candidate }] of candidates) {
      if (existing.has(id)) continue;
      const index = size + leaves.length;
      if (candidate.dataSalt && !this.salter!.isSalted(index)) {
        // A replay of a log begun before salting: this index was written unsalted (v1), so it is rebuilt so.
        const leaf = leafCommitment(event);
        leaves.push({ ...candidate, index, leaf, leafHash: hashLeaf(leaf), dataSalt: null });
      } else leaves.push({ ...candidate, index });
    }
    if (leaves.length === 0) return { appended: 0, size };

    const { newNodes, size: newSize } = appendLeaves(
      frontierHashes(frontier, size),
      size,
      leaves.map((l) => l.leafHash),
    );
    await this.repo.appendRows(em, leaves, newNodes, newSize);
    return { appended: leaves.length, size: newSize };
  }
}

/** The frontier's hashes in `rootRefs(size)` order; a missing node means the stored tree is broken. */
function frontierHashes(nodes: readonly TreeNode[], size: number): Buffer[] {
  const byRef = new Map(nodes.map((n) => [`${n.level}/${n.index}`, n.hash]));
  return rootRefs(size).map((r) => {
    const hash = byRef.get(`${r.level}/${r.index}`);
    if (!hash) throw new Error(`ledger node ${r.level}/${r.index} of the frontier of size ${size} is missing`);
    return hash;
  });
}
