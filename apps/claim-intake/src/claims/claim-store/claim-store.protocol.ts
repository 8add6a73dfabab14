/**
 * What crosses between the batcher (main thread) and the claim store's worker thread. Structured clone keeps plain
 * data, Dates and Maps, but not classes: a refusal (DomainError) travels as its fields and is rebuilt on arrival.
 */
import { DomainError, ProblemFieldError, DomainErrorKind } from '@claimchain/http';
import type { Outcome, PreparedClaim } from './claim-batch.store';

export type StoreRequest = { type: 'store'; id: number; items: PreparedClaim[] } | { type: 'close' };

export type EncodedOutcome =
  | { ok: true; response: Extract<Outcome, { ok: true }>['response'] }
  | { ok: false; refusal: { code: string; kind: DomainErrorKind; message: string; errors: ProblemFieldError[] } }
  | { ok: false; failure: string };

export type StoreReply = { id: number; outcomes: EncodedOutcome[] } | { id: number; failed: string };

export function encodeOutcomes(outcomes: readonly Outcome[]): EncodedOutcome[] {
  return outcomes.map((o) => {
    if (o.ok) return o;
    if (o.error instanceof DomainError) {
      const { code, kind, message, errors } = o.error;
      return { ok: false, refusal: { code, kind, message, errors } };
    }
    return { ok: false, failure: String(o.error) };
  });
}

export function decodeOutcomes(outcomes: readonly EncodedOutcome[]): Outcome[] {
  return outcomes.map((o) => {
    if (o.ok) return o;
    if ('refusal' in o) {
      const { code, kind, message, errors } = o.refusal;
      return { ok: false, error: new DomainError(code, kind, message, errors) };
    }
    return { ok: false, error: new Error(o.failure) };
  });
}
