import { createRequire } from 'node:module';
import { kafkajsIdleLoopFix } from './kafkajs-idle-loop.fix';

// kafkajs' own request queue (one per broker connection), driven without a socket: a request is "sent" when its
// sendRequest runs, and answered by fulfillRequest, as the connection does when the broker answers.
interface Queue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  push(request: unknown): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer | null; size: number }): void;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
  maybeThrottle(ms: number): void;
  destroy(): void;
}
type QueueClass = new (options: Record<string, unknown>) => Queue;

const load = createRequire(__filename);
const RequestQueue = load('kafkajs/src/network/requestQueue') as QueueClass & {
  prototype: { scheduleCheckPendingRequests(): void };
};
const original = RequestQueue.prototype.scheduleCheckPendingRequests;
const silent = { debug: () => undefined, warn: () => undefined, error: () => undefined, info: () => undefined };

function queue(maxInFlightRequests: number | null = null): Queue {
  return new RequestQueue({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'spec',
    broker: '127.0.0.1:9',
    logger: silent,
  });
}

function request(correlationId: number, sent: number[]): Record<string, unknown> {
  return {
    entry: {
      correlationId,
      apiKey: 1,
      apiName: 'Fetch',
      apiVersion: 11,
      resolve: () => undefined,
      reject: () => undefined,
    },
    expectResponse: true,
    sendRequest: () => sent.push(correlationId),
  };
}

describe('kafkajs idle timer loop fix', () => {
  const queues: Queue[] = [];
  const make = (max: number | null = null) => {
    const q = queue(max);
    queues.push(q);
    return q;
  };

  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    queues.splice(0).forEach((q) => q.destroy());
    jest.useRealTimers();
  });

  it('is needed: unfixed kafkajs 2.2.4 reschedules a check every millisecond with nothing to send', () => {
    const q = make();
    const check = jest.spyOn(q, 'checkPendingRequests');
    q.scheduleCheckPendingRequests = original; // the instance runs kafkajs' own method, whatever the prototype holds
    q.push(request(1, []));
    q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    check.mockClear();
    jest.advanceTimersByTime(100);
    expect(q.pending).toHaveLength(0);
    expect(check.mock.calls.length).toBeGreaterThanOrEqual(50); // ~one per millisecond, for nothing
  });

  it('applies to the kafkajs this repository installs', () => {
    expect(kafkajsIdleLoopFix()).toEqual({ applied: true });
    expect(RequestQueue.prototype.scheduleCheckPendingRequests).not.toBe(original);
  });

  it('leaves no timer behind once an answered connection has nothing pending', () => {
    kafkajsIdleLoopFix();
    const q = make();
    const check = jest.spyOn(q, 'checkPendingRequests');
    const sent: number[] = [];
    q.push(request(1, sent));
    q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    check.mockClear();
    jest.advanceTimersByTime(1_000);
    expect(sent).toEqual([1]);
    expect(check).not.toHaveBeenCalled();
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('still sends a request queued behind the in-flight limit, when the request before it is answered', () => {
    kafkajsIdleLoopFix();
    const q = make(1);
    const sent: number[] = [];
    q.push(request(1, sent));
    q.push(request(2, sent));
    expect(sent).toEqual([1]);
    q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    expect(sent).toEqual([1, 2]);
    q.fulfillRequest({ correlationId: 2, payload: null, size: 0 });
    jest.advanceTimersByTime(1_000);
    expect(q.pending).toHaveLength(0);
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('sends a request queued while the broker throttles the client once the throttle ends, not before', () => {
    kafkajsIdleLoopFix();
    const q = make();
    const sent: number[] = [];
    q.maybeThrottle(250);
    q.push(request(1, sent));
    jest.advanceTimersByTime(200);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(100);
    expect(sent).toEqual([1]);
    q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    jest.advanceTimersByTime(1_000);
    expect(q.throttleCheckTimeoutId).toBeNull();
  });
});
