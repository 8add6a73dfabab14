import { CloudEvent, TopicName } from '@claimchain/wire';

/** One Kafka batch's share of a group commit. */
export interface BatchPart {
  topic: TopicName;
  events: CloudEvent[];
  /** Each event's fingerprint (the SHA-256 of its message value), kept in the inbox beside its id. */
  fingerprints: Buffer[];
  origin: { topic: string; partition: number; offset: string };
}

/**
 * Group commit across partitions. kafkajs hands a fetch's batches (one per partition) to concurrent eachBatch calls;
 * each would be a transaction of its own, and for the ledger they all queue on one sequencer lock. Here the batches
 * that arrive while a transaction is being prepared or is in flight wait and then share the next one: the first
 * waits one turn of the event loop (setImmediate) for its siblings from the same fetch. A group that fails rejects
 * each member with the error; each then decides on its own whether to retry (so one poison batch cannot keep failing
 * the others).
 */
export class GroupCommit<T = BatchPart> {
  private waiting: { part: T; done: (error?: unknown) => void }[] = [];
  private busy = false;

  constructor(private readonly run: (parts: T[]) => Promise<void>) {}

  /** Resolves once a transaction holding `part` has committed; rejects with that transaction's error. */
  commit(part: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ part, done: (error) => (error === undefined ? resolve() : reject(error)) });
      if (!this.busy) {
        this.busy = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const members = this.waiting.splice(0);
      const error = await this.run(members.map((m) => m.part)).then(
        () => undefined,
        (e: unknown) => e ?? new Error('group commit failed'),
      );
      for (const m of members) m.done(error);
    }
    this.busy = false;
  }
}
