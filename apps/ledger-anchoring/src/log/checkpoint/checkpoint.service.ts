import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { AnchoredEntry, CloudEvent, LedgerAnchoredV2, Topics } from '@claimchain/wire';
import { LedgerAnchoringConfig } from '../../ledger-anchoring.config';
import { formatCheckpoint, inclusionProofsForRange, NoteSigner, rootHash, signNote } from '@claimchain/ledger';
import { buildEvent, OutboxWriter } from '@claimchain/messaging';
import { APPENDED_CHANNEL, LedgerRepository, PostgresSubtreeReader } from '../../persistence/ledger.repository';
import { AnchorPublisher } from '../anchor/anchor-publisher.service';
import { LatestCheckpointCache } from './latest-checkpoint.cache';
import { LeaderLease } from './leader.lease';
import { NOTE_SIGNER } from './note-signer.provider';
import { CoalescingSubtreeReader } from '../read/coalescing-subtree.reader';
import { LedgerMetrics } from '../ledger.metrics';

export const LEDGER_SOURCE = 'claimchain/ledger-anchoring';
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');

/** Session-level advisory lock held by the checkpoint leader's own connection. */
export const LEADER_LOCK_ID = 0x6c65616472; // "leadr"
/** Outbox rows per INSERT: 4 parameters each, well under Postgres' 65,535. */
const OUTBOX_CHUNK = 2000;
/**
 * Leaves one checkpoint covers at most. After an outage the backlog is worked off in checkpoints of this many (each
 * a transaction of bounded size and memory), back to back, rather than in one giant transaction.
 */
export const MAX_LEAVES_PER_CHECKPOINT = 50_000;

type LedgerOutput = { topic: typeof Topics.LedgerAnchored | typeof Topics.LedgerCheckpoints; event: CloudEvent };

/**
 * Bytes of entries (as JSON) per `ledger.anchored.v2` part at most: a quarter of the outbox's MAX_EVENT_BYTES (and of
 * the broker's 1 MiB message.max.bytes), so a part with its note, envelope and signature stays far below both. An
 * entry is ~1.2 kB at a tree of a million leaves (a 20-hash proof), so a part holds ~200 entries.
 */
export const NOTICE_ENTRY_BYTES = 224 * 1024;

/**
 * The `ledger.anchored.v2` notices announcing one checkpoint: its entries in order, cut into parts of at most
 * `maxEntryBytes` of entries each (at least one entry per part), each part carrying the note. Keyed (subject) by the
 * checkpoint and part, so a large checkpoint's parts spread over the partitions; consumers are order-free across
 * notices (ADR 23).
 */
export function anchoredNotices(
  checkpoint: Pick<LedgerAnchoredV2, 'origin' | 'treeSize' | 'rootHash' | 'checkpoint'>,
  entries: readonly AnchoredEntry[],
  maxEntryBytes = NOTICE_ENTRY_BYTES,
): LedgerOutput[] {
  const chunks: AnchoredEntry[][] = [];
  let chunk: AnchoredEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = Buffer.byteLength(JSON.stringify(entry)) + 1;
    if (chunk.length > 0 && bytes + size > maxEntryBytes) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(entry);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks.map((part, i) => ({
    topic: Topics.LedgerAnchored,
    event: buildEvent(Topics.LedgerAnchored, {
      source: LEDGER_SOURCE,
      subject: `${checkpoint.origin}/${checkpoint.treeSize}/${i + 1}`,
      data: { ...checkpoint, part: i + 1, parts: chunks.length, entries: part },
    }),
  }));
}

/** A leader with nothing to do still looks every max(T, this), in case a notification was missed. */
const IDLE_POLL_MS = 1000;

/**
 * Signs a C2SP checkpoint over the log and only then announces the events it newly covers in one `ledger.anchored.v2`
 * notice (in parts when large; "recorded" means a signed checkpoint covers it). The checkpoint, its announcement and
 * the notice commit in one transaction; the anchor sinks get it after that commit.
 *
 * When: appends wake the checkpointer (Postgres NOTIFY), at most once every T ms, or at once when N entries are
 * pending. So an event waits at most about T for its checkpoint, a burst is covered every N entries, and an idle log
 * costs a look every max(T, 1 s).
 *
 * Who: one replica, the leader, elected by a session advisory lock (LeaderLease). The others try for the lock every
 * 5·T and take over when the leader's session ends. The leader hears every replica's appends through LISTEN.
 * Appends never wait for a checkpoint: it reads a committed prefix of the log and serialises only with other
 * checkpoints.
 */
@Injectable()
export class CheckpointService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(CheckpointService.name);
  private readonly lease: LeaderLease;
  private running = false;
  private loop?: Promise<void>;
  private wakeRequested = false;
  private wake?: () => void;
  private lastCheckpointed = 0;
  private lastRoundAt = 0;
  private wakeTimer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: LedgerRepository,
    private readonly outbox: OutboxWriter,
    private readonly anchors: AnchorPublisher,
    private readonly latest: LatestCheckpointCache,
    @Inject(NOTE_SIGNER) private readonly signer: NoteSigner,
    @Inject(SERVICE_CONFIG) private readonly config: LedgerAnchoringConfig,
    private readonly metrics: LedgerMetrics = new LedgerMetrics(new Registry()),
  ) {
    this.lease = new LeaderLease(config.databaseUrl, LEADER_LOCK_ID, [APPENDED_CHANNEL], (_channel, payload) =>
      this.noteAppended(Number(payload)),
    );
  }

  get isLeader(): boolean {
    return this.lease.isLeader;
  }

  /** The leader's lease, so a test can end its session as a crash would. */
  get leaderLease(): LeaderLease {
    return this.lease;
  }

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Before TypeORM closes the database (its onApplicationShutdown), so a checkpoint in flight can commit. */
  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    this.requestWake();
    await this.loop;
    await this.anchors.stop();
    await this.lease.release();
  }

  /** An append committed (on any replica): checkpoint now if N entries are pending or T ms have passed, else at T. */
  noteAppended(size: number): void {
    if (!this.lease.isLeader) return;
    const { checkpointIntervalMs, checkpointMaxEntries } = this.config.ledger;
    const due = size - this.lastCheckpointed >= checkpointMaxEntries ? 0 : this.lastRoundAt + checkpointIntervalMs;
    if (due <= Date.now()) {
      this.requestWake();
    } else if (!this.wakeTimer) {
      this.wakeTimer = setTimeout(() => {
        this.wakeTimer = undefined;
        this.requestWake();
      }, due - Date.now());
      this.wakeTimer.unref();
    }
  }

  /** Signs a checkpoint if the log grew; returns the checkpointed size, or undefined when nothing was new. */
  async checkpointNow(): Promise<number | undefined> {
    const done = this.metrics.checkpointSeconds.startTimer();
    const size = await this.dataSource.transaction(async (em) => {
      await this.repo.lockCheckpointer(em);
      // After the lock, in a statement of its own: its snapshot then sees every checkpoint committed before ours.
      const { checkpointed: from, size: logSize } = await this.repo.checkpointState(em);
      this.lastCheckpointed = from;
      if (logSize <= from) return undefined;
      const size = Math.min(logSize, from + MAX_LEAVES_PER_CHECKPOINT);
      if (size < logSize) this.requestWake(); // more to cover: go again at once
      // The root's nodes and every proof's nodes in one read: the two ask in the same turn, the reader merges them.
      const nodes = new CoalescingSubtreeReader(new PostgresSubtreeReader(em));
      const [root, proofs] = await Promise.all([
        rootHash(nodes, size),
        inclusionProofsForRange(nodes, from, size, size),
      ]);
      const origin = this.config.ledger.origin;
      const note = signNote(formatCheckpoint({ origin, size, root }), this.signer);
      await this.repo.insertCheckpoint(em, { size, root, note });
      const rootB64 = root.toString('base64');
      const leaves = await this.repo.leavesBetween(em, from, size);
      // One notice for the checkpoint (in parts under the broker's message size), each entry with its leaf's proof
      // against it: with the note, a self-contained receipt per event (ADR 23).
      const entries: AnchoredEntry[] = leaves.map((leaf, i) => ({
        eventId: leaf.event_id,
        eventType: leaf.event_type,
        eventSubject: leaf.subject,
        leafIndex: Number(leaf.leaf_index),
        leafHash: leaf.leaf_hash.toString('base64'),
        inclusionProof: proofs[i].map((h) => h.toString('base64')),
        // Internal (Kafka) only: the salt goes to the services that hand receipts to the claim's parties.
        ...(leaf.data_salt && { dataSalt: leaf.data_salt.toString('hex') }),
      }));
      const events: LedgerOutput[] = anchoredNotices(
        { origin, treeSize: size, rootHash: rootB64, checkpoint: note },
        entries,
      );
      events.push({
        topic: Topics.LedgerCheckpoints,
        event: buildEvent(Topics.LedgerCheckpoints, {
          source: LEDGER_SOURCE,
          subject: origin,
          data: { origin, treeSize: size, rootHash: rootB64, checkpoint: note },
        }),
      });
      for (let i = 0; i < events.length; i += OUTBOX_CHUNK) {
        await this.outbox.addBuilt(em, events.slice(i, i + OUTBOX_CHUNK));
      }
      this.lastCheckpointed = size;
      return size;
    });
    if (size !== undefined) {
      done(); // only rounds that signed something: the empty ones would drown the figure
      this.latest.forget();
    }
    return size;
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.lastRoundAt = Date.now(); // "at most every T" counts from a round's start
      try {
        if (await this.lease.tryAcquire()) {
          await this.checkpointNow();
          this.anchors.kick(); // after the commit; also resumes a backlog left by an earlier leader
        }
      } catch (error) {
        this.logger.error(`checkpoint failed: ${String(error)}`);
      }
      const interval = this.config.ledger.checkpointIntervalMs;
      await this.sleep(this.lease.isLeader ? Math.max(interval, IDLE_POLL_MS) : interval * 5);
    }
    clearTimeout(this.wakeTimer);
  }

  private requestWake(): void {
    this.wakeRequested = true;
    this.wake?.();
  }

  /** Sleeps `ms` unless woken; a wake requested while a checkpoint was running is not lost. */
  private async sleep(ms: number): Promise<void> {
    if (this.wakeRequested) {
      this.wakeRequested = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
    this.wakeRequested = false;
  }
}
