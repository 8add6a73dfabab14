import { CloudEvent, TopicName } from '@claimchain/wire';
import { BatchPart, GroupCommit } from './group-commit';

const part = (partition: number): BatchPart => ({
  topic: 'claims.submitted.v1' as TopicName,
  events: [{ id: `event-${partition}` } as CloudEvent],
  fingerprints: [Buffer.alloc(32)],
  origin: { topic: 'claims.submitted.v1', partition, offset: '0' },
});

describe(GroupCommit.name, () => {
  it('commits the batches that arrive together (one fetch, several partitions) in one transaction', async () => {
    const runs: number[][] = [];
    const group = new GroupCommit(async (parts) => {
      runs.push(parts.map((p) => p.origin.partition));
    });
    await Promise.all([group.commit(part(0)), group.commit(part(1)), group.commit(part(2))]);
    expect(runs).toEqual([[0, 1, 2]]);
  });

  it('lets batches that arrive while a transaction is in flight share the next one', async () => {
    const runs: number[][] = [];
    let release!: () => void;
    const firstRunning = new Promise<void>((resolve) => (release = resolve));
    let unblock!: () => void;
    const blocked = new Promise<void>((resolve) => (unblock = resolve));
    const group = new GroupCommit(async (parts) => {
      runs.push(parts.map((p) => p.origin.partition));
      if (runs.length === 1) {
        release();
        await blocked;
      }
    });
    const first = group.commit(part(0));
    await firstRunning;
    const later = [group.commit(part(1)), group.commit(part(2))];
    unblock();
    await Promise.all([first, ...later]);
    expect(runs).toEqual([[0], [1, 2]]);
  });

  it('rejects every member of a group that failed with its error, and goes on with the next group', async () => {
    let calls = 0;
    const group = new GroupCommit(async (parts) => {
      calls += 1;
      if (parts.some((p) => p.origin.partition === 1)) throw new Error('poison in partition 1');
    });
    const outcomes = await Promise.allSettled([group.commit(part(0)), group.commit(part(1))]);
    expect(outcomes.map((o) => o.status === 'rejected' && String(o.reason))).toEqual([
      'Error: poison in partition 1',
      'Error: poison in partition 1',
    ]);
    await expect(group.commit(part(2))).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });
});
