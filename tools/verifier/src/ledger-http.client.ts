/**
 * The only code that talks to the log: its public read API over HTTP. A log that cannot be reached or answers with
 * an error status is "unavailable" (exit 3); a log that answers 2xx with something malformed has served data that
 * does not verify (exit 1) — what it serves with a success status is what it vouches for.
 */
import { z } from 'zod';
import { ConsistencyProofDto, EntriesDto, LEDGER_MAX_ENTRIES_PER_REQUEST, ledgerPath } from '@claimchain/wire';
import { WireEntry } from './served-log.auditor';
import { VerifierError } from './verifier.errors';

/** The log serves at most this many entries per request. */
export const MAX_ENTRIES_PER_PAGE = LEDGER_MAX_ENTRIES_PER_REQUEST;

export class LedgerHttpClient {
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly timeoutMs = 30_000,
  ) {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new VerifierError('VERIFIER.USAGE', `--url ${JSON.stringify(baseUrl)} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new VerifierError('VERIFIER.USAGE', `--url must be an http or https URL, got ${url.protocol}`);
    }
    this.base = url.href.replace(/\/+$/, '');
  }

  /** The latest signed checkpoint note, as text. */
  async checkpoint(): Promise<string> {
    const path = ledgerPath('checkpoint');
    const body = await this.get(path, 'text/plain');
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
    } catch {
      throw new VerifierError('VERIFIER.RESPONSE_INVALID', `GET ${path}: the checkpoint is not UTF-8 text`);
    }
  }

  /** Entries [start, end) — possibly fewer, if the log pages shorter than asked. */
  async entries(start: number, end: number): Promise<WireEntry[]> {
    const path = `${ledgerPath('entries')}?start=${start}&end=${end}`;
    return (await this.getJson(path, EntriesDto)).entries;
  }

  async consistencyProof(from: number, to: number): Promise<string[]> {
    const path = `${ledgerPath('consistencyProof')}?from=${from}&to=${to}`;
    const proof = await this.getJson(path, ConsistencyProofDto);
    if (proof.from !== from || proof.to !== to) {
      throw new VerifierError(
        'VERIFIER.RESPONSE_INVALID',
        `GET ${path}: the log answered with a proof from ${proof.from} to ${proof.to}`,
      );
    }
    return proof.hashes;
  }

  private async getJson<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    const body = await this.get(path, 'application/json');
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      throw new VerifierError('VERIFIER.RESPONSE_INVALID', `GET ${path}: the log's answer is not JSON`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `/${i.path.join('/')}: ${i.message}`).slice(0, 3);
      throw new VerifierError('VERIFIER.RESPONSE_INVALID', `GET ${path}: unexpected answer (${problems.join('; ')})`);
    }
    return parsed.data;
  }

  private async get(path: string, accept: string): Promise<Buffer> {
    const url = this.base + path;
    let response: Response;
    try {
      response = await fetch(url, { headers: { accept }, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw new VerifierError('VERIFIER.LOG_UNAVAILABLE', `cannot reach the log at ${url}: ${describeFetchError(err)}`);
    }
    try {
      const body = Buffer.from(await response.arrayBuffer());
      if (!response.ok) {
        const detail = body.toString('utf8').slice(0, 200).trim();
        throw new VerifierError(
          'VERIFIER.LOG_UNAVAILABLE',
          `GET ${url}: the log answered ${response.status}${detail ? ` (${detail})` : ''}`,
        );
      }
      return body;
    } catch (err) {
      if (err instanceof VerifierError) throw err;
      throw new VerifierError(
        'VERIFIER.LOG_UNAVAILABLE',
        `GET ${url}: the answer broke off: ${describeFetchError(err)}`,
      );
    }
  }
}

// Duck-typed: fetch's errors come from Node's own realm, so `instanceof Error` fails inside a jest sandbox.
function describeFetchError(err: unknown): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    name?: unknown;
    message?: unknown;
    cause?: unknown;
  };
  if (e.name === 'TimeoutError') return 'timed out';
  // undici wraps the socket error (ECONNREFUSED, ENOTFOUND, …) in `cause`.
  const cause = (typeof e.cause === 'object' && e.cause !== null ? e.cause : {}) as {
    code?: unknown;
    message?: unknown;
  };
  for (const reason of [cause.code, cause.message, e.message])
    if (typeof reason === 'string' && reason !== '') return reason;
  return String(err);
}
