/**
 * Open-loop load: claims are sent at a fixed arrival rate by the clock, whatever the answers do. The i-th claim of
 * a phase is due at start + i/rate; each is recorded with that intended time, so a stalled server shows up as
 * latency rather than as a quietly lower rate (no coordinated omission). The provider's confirmation follows each
 * accepted claim at once. Keep-alive connections (node:http Agent); nothing waits for one claim before the next.
 *
 * With a retry policy (the chaos run) it behaves as a careful client of a system that fails: a refused connection, a
 * reset, a timeout, a 429/5xx (after its Retry-After when given) is retried with the same Idempotency-Key until the
 * policy gives up, so a retry never makes a second claim; a confirmation answered 409 on a retry was recorded by the
 * attempt whose answer was lost. With `duplicateEvery` every n-th accepted claim is sent again under a fresh key,
 * which the API must refuse (409 CLAIM.DUPLICATE) however the system is failing.
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
  /** The confirmation's Idempotency-Key: every attempt at it, including a re-offer, sends the same one. */
  confirmKey?: string;
  /** With a retry policy: how many attempts each request took, and what the refused ones were answered. */
  claimAttempts?: number;
  confirmAttempts?: number;
  refusals?: string[];
  /** Offered again after the load (`confirmAgain`) because no attempt was accepted during it. */
  confirmReoffered?: boolean;
  /** The status the same claim got when sent again under a fresh Idempotency-Key (duplicateEvery): 409 expected. */
  duplicateStatus?: number;
  error?: string;
}

export interface RetryPolicy {
  /** A request is given up this long after its first attempt. */
  giveUpAfterMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface LoadOptions {
  retry?: RetryPolicy;
  duplicateEvery?: number;
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
  retryAfter?: string;
}

export class LoadGenerator {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 128, keepAliveMsecs: 10_000 });
  private inFlight = 0;
  private readonly pending = new Set<Promise<void>>();
  private stopped = false;
  private accepted = 0;
  private readonly confirmations = new Map<SentClaim, PlannedClaim>();

  constructor(
    private readonly endpoints: Endpoints,
    private readonly tokens: Map<string, string>,
    private readonly workload: Workload,
    private readonly options: LoadOptions = {},
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

  /** Waits (bounded) for the answers still on their way, retries included. */
  async finish(): Promise<void> {
    const deadline = Date.now() + FINISH_TIMEOUT_MS + (this.options.retry?.giveUpAfterMs ?? 0);
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
    const claimHeaders = {
      'content-type': 'application/fhir+json',
      authorization: `Bearer ${this.tokens.get(planned.insurer)}`,
    };
    const claim = await this.sendRetrying(
      this.endpoints.claims,
      planned.body,
      {
        ...claimHeaders,
        'idempotency-key': randomUUID(),
      },
      sent,
      'claim',
    );
    sent.claimStatus = claim.status;
    sent.claimAnsweredAt = Date.now();
    if (claim.status !== 202) {
      sent.error = `claim ${claim.status}: ${claim.body.slice(0, 200)}`;
      return;
    }
    sent.claimId = (JSON.parse(claim.body) as { id: string }).id;
    if (this.options.retry) this.confirmations.set(sent, planned);
    await this.confirm(planned, sent);
    const every = this.options.duplicateEvery;
    // Only claims that will be paid: one denied or rejected may lawfully be claimed again.
    const paid = planned.outcome === 'approved' || planned.outcome === 'partial';
    if (every && paid && (this.accepted += 1) % every === 0) {
      const again = await this.sendRetrying(
        this.endpoints.claims,
        planned.body,
        {
          ...claimHeaders,
          'idempotency-key': randomUUID(),
        },
        sent,
        'duplicate',
      );
      sent.duplicateStatus = again.status;
      if (again.status === 202) sent.error = `duplicate accepted: ${again.body.slice(0, 200)}`;
    }
  }

  private async confirm(planned: PlannedClaim, sent: SentClaim): Promise<void> {
    const retried = (sent.confirmAttempts ?? 0) > 0;
    const confirmation = await this.sendRetrying(
      this.endpoints.confirmations,
      planned.confirmation(sent.claimId!),
      {
        'content-type': 'application/json',
        authorization: `Bearer ${this.tokens.get(planned.provider)}`,
        'idempotency-key': (sent.confirmKey ??= randomUUID()),
      },
      sent,
      'confirm',
    );
    sent.confirmStatus = confirmation.status;
    sent.confirmAnsweredAt = Date.now();
    // An earlier attempt was recorded and its answer lost: the claim has its one confirmation.
    const again = retried || (sent.confirmAttempts ?? 1) > 1;
    if (confirmation.status === 409 && again && /ALREADY_RECORDED/.test(confirmation.body)) sent.confirmStatus = 201;
    if (sent.confirmStatus !== 201 && sent.confirmStatus !== 202) {
      sent.error = `confirmation ${confirmation.status}: ${confirmation.body.slice(0, 200)}`;
    } else if (sent.error?.startsWith('confirmation')) sent.error = undefined;
  }

  /**
   * With a retry policy: offers each confirmation that no attempt got accepted during the load once more (with its
   * retries), as a provider whose confirmation bounced would send it again later. Returns how many it offered.
   */
  async confirmAgain(): Promise<number> {
    const unconfirmed = [...this.confirmations].filter(
      ([sent]) => sent.confirmStatus !== 201 && sent.confirmStatus !== 202,
    );
    await Promise.all(
      unconfirmed.map(async ([sent, planned]) => {
        sent.confirmReoffered = true;
        await this.confirm(planned, sent).catch((error: unknown) => {
          sent.error = (error as Error).message;
        });
      }),
    );
    return unconfirmed.length;
  }

  /** One request, or with a retry policy as many attempts as it takes (the same headers, so the same key). */
  private async sendRetrying(
    url: string,
    body: string,
    headers: Record<string, string>,
    sent: SentClaim,
    what: 'claim' | 'confirm' | 'duplicate',
  ): Promise<Answer> {
    const policy = this.options.retry;
    if (!policy) return this.post(url, body, headers);
    const giveUpAt = Date.now() + policy.giveUpAfterMs;
    for (let attempt = 1; ; attempt += 1) {
      if (what === 'claim') sent.claimAttempts = attempt;
      if (what === 'confirm') sent.confirmAttempts = attempt;
      let refusal: string;
      let wait = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt - 1, 10));
      try {
        const answer = await this.post(url, body, headers);
        if (answer.status !== 429 && answer.status < 500) return answer;
        refusal = `${what} ${answer.status}`;
        const seconds = Number(answer.retryAfter);
        if (Number.isFinite(seconds) && seconds >= 0) wait = Math.max(wait, seconds * 1000);
        if (Date.now() + wait > giveUpAt) return answer;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        refusal = `${what} ${code ?? (error as Error).message}`;
        if (Date.now() + wait > giveUpAt) throw error;
      }
      (sent.refusals ??= []).push(refusal);
      await sleep(wait);
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
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              retryAfter: res.headers['retry-after'],
            }),
          );
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
