/**
 * Open-loop load: claims are sent at a fixed arrival rate by the clock, whatever the answers do. The i-th claim of
 * a phase is due at start + i/rate; each is recorded with that intended time, so a stalled server shows up as
 * latency rather than as a quietly lower rate (no coordinated omission). The provider's confirmation follows each
 * accepted claim at once. Keep-alive connections (node:http Agent); nothing waits for one claim before the next.
 */
import { Agent, request } from 'node:http';
import { randomUUID } from 'node:crypto';
import { PlannedClaim, Workload } from './workload';

export interface SentClaim {
  n: number;
  phase: string;
  outcome: PlannedClaim['outcome'];
  insurer: string;
  lines: number;
  /** When it was due (ms since the epoch); the latencies the client sees count from here. */
  intendedAt: number;
  /** When it actually went out: intendedAt plus the generator's own lag. */
  sentAt: number;
  claimStatus?: number;
  claimAnsweredAt?: number;
  claimId?: string;
  confirmStatus?: number;
  confirmAnsweredAt?: number;
  error?: string;
}

export interface Endpoints {
  claims: string;
  confirmations: string;
}

const REQUEST_TIMEOUT_MS = 30_000;
/** Past this many claims without an answer the generator stops sending and counts them as refused here. */
const MAX_IN_FLIGHT = 20_000;
const FINISH_TIMEOUT_MS = REQUEST_TIMEOUT_MS + 5_000;

interface Answer {
  status: number;
  body: string;
}

export class LoadGenerator {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 128, keepAliveMsecs: 10_000 });
  private inFlight = 0;
  private readonly pending = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly endpoints: Endpoints,
    private readonly tokens: Map<string, string>,
    private readonly workload: Workload,
  ) {}

  /** Sends rate·seconds claims at the rate; resolves when the last is sent (answers may still be on their way). */
  async run(phase: string, rate: number, seconds: number, out: SentClaim[]): Promise<void> {
    const total = Math.round(rate * seconds);
    const start = Date.now();
    const deadline = start + seconds * 1000 + 5_000;
    let i = 0;
    while (i < total && !this.stopped && Date.now() < deadline) {
      const due = Math.min(total, Math.floor(((Date.now() - start) * rate) / 1000) + 1);
      for (; i < due; i++) out.push(this.send(phase, start + (i * 1000) / rate));
      const next = start + (i * 1000) / rate;
      await sleep(Math.max(1, Math.min(5, next - Date.now())));
    }
  }

  /** Waits (bounded) for the answers still on their way. */
  async finish(): Promise<void> {
    const deadline = Date.now() + FINISH_TIMEOUT_MS;
    while (this.pending.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.pending]), sleep(500)]);
    }
  }

  stop(): void {
    this.stopped = true;
  }

  close(): void {
    this.agent.destroy();
  }

  private send(phase: string, intendedAt: number): SentClaim {
    const planned = this.workload.next();
    const sent: SentClaim = {
      n: planned.n,
      phase,
      outcome: planned.outcome,
      insurer: planned.insurer,
      lines: planned.lines.length,
      intendedAt,
      sentAt: Date.now(),
    };
    if (this.inFlight >= MAX_IN_FLIGHT) {
      sent.error = 'generator: too many claims in flight';
      return sent;
    }
    this.inFlight += 1;
    const done: Promise<void> = this.exchange(planned, sent)
      .catch((error: unknown) => {
        sent.error = (error as Error).message;
      })
      .finally(() => {
        this.inFlight -= 1;
        this.pending.delete(done);
      });
    this.pending.add(done);
    return sent;
  }

  private async exchange(planned: PlannedClaim, sent: SentClaim): Promise<void> {
    const claim = await this.post(this.endpoints.claims, planned.body, {
      'content-type': 'application/fhir+json',
      authorization: `Bearer ${this.tokens.get(planned.insurer)}`,
      'idempotency-key': randomUUID(),
    });
    sent.claimStatus = claim.status;
    sent.claimAnsweredAt = Date.now();
    if (claim.status !== 202) {
      sent.error = `claim ${claim.status}: ${claim.body.slice(0, 200)}`;
      return;
    }
    sent.claimId = (JSON.parse(claim.body) as { id: string }).id;
    const confirmation = await this.post(this.endpoints.confirmations, planned.confirmation(sent.claimId), {
      'content-type': 'application/json',
      authorization: `Bearer ${this.tokens.get(planned.provider)}`,
    });
    sent.confirmStatus = confirmation.status;
    sent.confirmAnsweredAt = Date.now();
    if (confirmation.status !== 201 && confirmation.status !== 202) {
      sent.error = `confirmation ${confirmation.status}: ${confirmation.body.slice(0, 200)}`;
    }
  }

  private post(url: string, body: string, headers: Record<string, string>): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
          timeout: REQUEST_TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS / 1000} s`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
