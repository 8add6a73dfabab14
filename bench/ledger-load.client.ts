/**
 * The load generator and stopwatch of the ledger bench's Kafka phase, in a process of its own so that the ledger
 * service it measures has its event loop to itself, as when deployed. Over IPC it receives the brokers and the
 * events, sends them to claims.submitted.v1 in batches of 10 every 10 ms (1,000 events/s), times each event's
 * ledger.anchored.v2 notice (its checkpoint's) and answers with absolute times (performance.timeOrigin-based, comparable across
 * processes on one machine).
 *
 * The warm-up events go first at the same pace and are not timed: the broker is fresh for every run, and its first
 * seconds (JIT compilation, the first segment files, the consumer group's first fetches) are not the steady state a
 * deployed log runs in. It says 'measuring' when the timed events start.
 */
import { performance } from 'node:perf_hooks';
import { v4 as uuidv4 } from 'uuid';
import { CloudEvent, Topics } from '@claimchain/wire';
import { createKafka } from '@claimchain/messaging';

export type LoadRequest = { brokers: string[]; warmup: CloudEvent[]; events: CloudEvent[] };
export type LoadReport = { sent: Record<string, number>; anchored: Record<string, number> };
export type LoadMessage = { kind: 'ready' } | { kind: 'measuring' } | { kind: 'report'; report: LoadReport };

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const send = (m: LoadMessage) => process.send!(m);

async function run({ brokers, warmup, events }: LoadRequest): Promise<void> {
  const kafka = createKafka('ledger-bench-load', brokers);
  const producer = kafka.producer();
  const watcher = kafka.consumer({ groupId: `ledger-bench-watch-${uuidv4()}` });
  const sent: Record<string, number> = {};
  const anchored: Record<string, number> = {};
  await producer.connect();
  await watcher.connect();
  await watcher.subscribe({ topic: Topics.LedgerAnchored, fromBeginning: true });
  let watching = false;
  watcher.on(watcher.events.GROUP_JOIN, () => (watching = true));
  // The stopwatch must not add Kafka round trips of its own: no offset commit after every batch.
  await watcher.run({
    autoCommit: false,
    eachMessage: async ({ message }) => {
      const notice = JSON.parse(message.value!.toString()) as { data: { entries: { eventId: string }[] } };
      const at = now();
      for (const { eventId } of notice.data.entries) {
        if (sent[eventId] !== undefined && anchored[eventId] === undefined) anchored[eventId] = at;
      }
    },
  });
  const deadline = now() + 30_000;
  while (!watching && now() < deadline) await sleep(20);
  // Sends `batch`es of 10 every 10 ms, without waiting for a send to finish: a real producer does not stop producing
  // while a send is in flight.
  const paced = async (list: CloudEvent[]) => {
    const t0 = performance.now();
    for (let k = 0; k * 10 < list.length; k++) {
      const due = t0 + k * 10;
      if (performance.now() < due) await sleep(due - performance.now());
      const batch = list.slice(k * 10, k * 10 + 10);
      const at = now();
      for (const e of batch) sent[e.id] = at;
      void producer.send({
        topic: Topics.ClaimsSubmitted,
        acks: -1,
        messages: batch.map((e) => ({ key: e.subject, value: JSON.stringify(e) })),
      });
    }
  };
  await paced(warmup);
  while (warmup.some((e) => anchored[e.id] === undefined) && now() < deadline + 30_000) await sleep(20);
  for (const e of warmup) {
    delete sent[e.id];
    delete anchored[e.id];
  }

  send({ kind: 'measuring' });
  await paced(events);
  const end = now() + 30_000;
  while (Object.keys(anchored).length < events.length && now() < end) await sleep(20);
  send({ kind: 'report', report: { sent, anchored } });
  await watcher.disconnect().catch(() => undefined);
  await producer.disconnect().catch(() => undefined);
}

process.once('message', (request: LoadRequest) => {
  run(request).then(
    () => process.disconnect(),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
send({ kind: 'ready' });
