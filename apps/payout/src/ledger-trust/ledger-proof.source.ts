import { ConsistencyProofDto, ledgerPath } from '@claimchain/wire';
import { TransientEventError } from '@claimchain/messaging';

/**
 * Where payout gets RFC 9162 consistency proofs between two checkpoints it has seen. The proofs prove themselves
 * (they are checked against roots payout already holds), so the source need not be trusted, only reachable.
 */
export interface LedgerProofSource {
  /** Base64 hashes of the consistency proof from tree size `from` to `to` (from < to). */
  consistencyProof(from: number, to: number): Promise<string[]>;
}

/**
 * The ledger could not be asked: transient (the consumer waits and retries until it answers), unlike a proof that
 * fails (which trips the breaker).
 */
export class LedgerUnreachableError extends TransientEventError {}

/** ledger-anchoring's public read API (`GET /v1/ledger/proofs/consistency`). */
export class HttpLedgerProofSource implements LedgerProofSource {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 5_000,
  ) {}

  async consistencyProof(from: number, to: number): Promise<string[]> {
    const url = new URL(ledgerPath('consistencyProof'), this.baseUrl);
    url.searchParams.set('from', String(from));
    url.searchParams.set('to', String(to));
    let res: Response;
    try {
      res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new LedgerUnreachableError(`ledger at ${this.baseUrl} unreachable: ${(error as Error).message}`);
    }
    if (!res.ok) throw new LedgerUnreachableError(`ledger answered ${res.status} to ${url.pathname}${url.search}`);
    const answer = ConsistencyProofDto.safeParse(await res.json());
    if (!answer.success || answer.data.from !== from || answer.data.to !== to) {
      // A malformed answer is not evidence of a forked log, but nothing can be paid on it either.
      throw new LedgerUnreachableError(`ledger sent a malformed consistency proof for ${from}→${to}`);
    }
    return answer.data.hashes;
  }
}
