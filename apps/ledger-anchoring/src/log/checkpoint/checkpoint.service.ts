import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CloudEvent, Topics } from '@claimchain/contracts';
import { ServiceConfig } from '@claimchain/config';
import { formatCheckpoint, NoteSigner, rootHash, signNote } from '@claimchain/ledger';
import { buildEvent, OutboxWriter } from '@claimchain/messaging';
import { LedgerRepository, PostgresSubtreeReader } from '../../persistence/ledger.repository';
import { NOTE_SIGNER } from './note-signer.provider';

export const LEDGER_SOURCE = 'claimchain/ledger-anchoring';
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');

/**
 * Signs a C2SP checkpoint over the log at most every T ms or N entries, and only then announces each newly
 * covered event as `ledger.anchored.v1` ("recorded" means a signed checkpoint covers it). The checkpoint, its
 * announcement and the anchored notices commit in one transaction under the sequencer lock.
 */
@Injectable()
export class CheckpointService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(CheckpointService.name);
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private lastCheckpointed = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: LedgerRepository,
    private readonly outbox: OutboxWriter,
    @Inject(NOTE_SIGNER) private readonly signer: NoteSigner,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Before TypeORM closes the database (its onApplicationShutdown), so a checkpoint in flight can commit. */
  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Called after an append: with N entries pending, checkpoint now rather than at the next tick. */
  noteAppended(size: number): void {
    if (size - this.lastCheckpointed >= this.config.ledger.checkpointMaxEntries) this.wake?.();
  }

  /** Signs a checkpoint if the log grew; returns the checkpointed size, or undefined when nothing was new. */
  async checkpointNow(): Promise<number | undefined> {
    return this.dataSource.transaction(async (em) => {
      await this.repo.lockSequencer(em);
      const size = await this.repo.size(em);
      const previous = await this.repo.latestCheckpoint(em);
      const from = previous ? Number(previous.tree_size) : 0;
      this.lastCheckpointed = from;
      if (size <= from) return undefined;
      const root = await rootHash(new PostgresSubtreeReader(em), size);
      const origin = this.config.ledger.origin;
      const note = signNote(formatCheckpoint({ origin, size, root }), this.signer);
      await this.repo.insertCheckpoint(em, { size, root, note });
      const rootB64 = root.toString('base64');
      const leaves = await this.repo.leavesBetween(em, from, size);
      const events: { topic: typeof Topics.LedgerAnchored | typeof Topics.LedgerCheckpoints; event: CloudEvent }[] =
        leaves.map((leaf) => ({
          topic: Topics.LedgerAnchored,
          event: buildEvent(Topics.LedgerAnchored, {
            source: LEDGER_SOURCE,
            subject: leaf.subject,
            causationid: leaf.event_id,
            data: {
              eventId: leaf.event_id,
              eventType: leaf.event_type,
              eventSubject: leaf.subject,
              leafIndex: Number(leaf.leaf_index),
              leafHash: leaf.leaf_hash.toString('base64'),
              treeSize: size,
              rootHash: rootB64,
              checkpoint: note,
            },
          }),
        }));
      events.push({
        topic: Topics.LedgerCheckpoints,
        event: buildEvent(Topics.LedgerCheckpoints, {
          source: LEDGER_SOURCE,
          subject: origin,
          data: { origin, treeSize: size, rootHash: rootB64, checkpoint: note },
        }),
      });
      await this.outbox.addBuilt(em, events);
      this.lastCheckpointed = size;
      return size;
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.checkpointNow();
      } catch (error) {
        this.logger.error(`checkpoint failed: ${String(error)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.config.ledger.checkpointIntervalMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}
