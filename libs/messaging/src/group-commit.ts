import { CloudEvent, TopicName } from '@claimchain/contracts';

/** One Kafka batch's share of a group commit. */
export interface BatchPart {
  topic: TopicName;
  events: CloudEvent[];
  origin: { topic: string; partition: number; offset: string };
}

/**
 * Group commit across partitions. kafkajs hands a fetch's batches (one per partition) to concurrent eachBatch calls;
 * each would be a transaction of its own, and for the ledger they all queue on one sequencer lock. Here the batches
 * that arrive while a transaction is being prepared or is in flight wait and then share the next one: the first
 * waits one turn of the event loop (setImmediate) for its siblings from the same fetch. A group that fails reports
 * false to each member, which then retries on its own (so one poison batch cannot keep failing the others).
 */
export class GroupCommit {
  private waiting: { part: BatchPart; done: (ok: boolean) => void }[] = [];
  private busy = false;

  constructor(private readonly run: (parts: BatchPart[]) => Promise<void>) {}

  commit(part: BatchPart): Promise<boolean> {
    return new Promise((done) => {
      this.waiting.push({ part, done });
      if (!this.busy) {
        this.busy = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const members = this.waiting.splice(0);
      const ok = await this.run(members.map((m) => m.part)).then(
        () => true,
        () => false,
      );
      for (const m of members) m.done(ok);
    }
    this.busy = false;
  }
}
