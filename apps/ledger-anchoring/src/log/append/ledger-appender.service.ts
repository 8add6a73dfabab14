import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { CloudEvent } from '@claimchain/contracts';
import { appendLeaves, hashLeaf, leafCommitment, rootRefs } from '@claimchain/ledger';
import { LedgerRepository, PostgresSubtreeReader } from '../../persistence/ledger.repository';

/**
 * Appends events to the log as RFC 9162 leaves (the commitment, never the data). Runs inside the consumer's inbox
 * transaction under the sequencer lock, so the leaf, its completed subtree nodes and "event processed" commit
 * together, and indices are gapless even with several replicas.
 */
@Injectable()
export class LedgerAppenderService {
  constructor(private readonly repo: LedgerRepository) {}

  /** Returns the new leaf's index, or undefined when the event was already in the log. */
  async append(em: EntityManager, event: CloudEvent): Promise<number | undefined> {
    await this.repo.lockSequencer(em);
    if (await this.repo.hasEvent(em, event.id)) return undefined;
    const size = await this.repo.size(em);
    const frontier = await new PostgresSubtreeReader(em).getMany(rootRefs(size));
    const leaf = leafCommitment(event);
    const leafHash = hashLeaf(leaf);
    const { newNodes } = appendLeaves(frontier, size, [leafHash]);
    await this.repo.insertLeaf(em, {
      index: size,
      eventId: event.id,
      eventType: event.type,
      subject: event.subject,
      leaf,
      leafHash,
    });
    await this.repo.insertNodes(em, newNodes);
    return size;
  }
}
