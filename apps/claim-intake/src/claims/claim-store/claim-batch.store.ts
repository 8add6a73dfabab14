import { DataSource, EntityManager } from 'typeorm';
import { validate as isUuid } from 'uuid';
import { CloudEvent, Topics } from '@claimchain/wire';
import {
  claimKeys,
  DomainError,
  releaseKeys,
  requestFingerprint,
  sameRequest,
  StoredResponse,
  storedResponses,
} from '@claimchain/http';
import { ClaimsRepository, NewClaim } from '../claims.repository';
import { NEVER_PAID } from '../claim-status';

export interface SubmittedClaimDto {
  id: string;
  status: 'submitted';
}

/** A claim ready to store: validated, pseudonymised, its event built. Only the database decides the rest. */
export interface PreparedClaim {
  scope: string;
  idempotencyKey: string;
  body: unknown;
  claim: NewClaim;
  event: CloudEvent;
  /** The trace the event continues (the request's span, ADR 20): the worker thread storing it has no tracing. */
  traceparent?: string;
  /** The claim this one resubmits, and the JSON pointer naming it in the request. */
  prior?: { id: string; pointer: string };
  /** item index per line sequence, for error pointers */
  itemIndexOf: Map<number, number>;
}

export type Outcome = { ok: true; response: StoredResponse<SubmittedClaimDto> } | { ok: false; error: unknown };

const DEADLOCK = '40P01';
/**
 * SQLSTATE classes that say the database cannot serve anyone now, whatever the claims hold: 08 connection, 40
 * transaction rollback (after storeWithRetry's attempts), 53 insufficient resources, 57 operator intervention, 58
 * system error, XX internal. Any other SQLSTATE is a statement Postgres refused, possibly for one request's values
 * (class 22 for a NUL, 54 for an index row over 2,704 bytes from an 8 KB service code, ...).
 */
const DATABASE_UNAVAILABLE = /^(08|40|53|57|58|XX)/;
const SQLSTATE = /^[0-9A-Z]{5}$/;

const keyOf = (p: PreparedClaim) => `${p.scope}\0${p.idempotencyKey}`;

/**
 * Stores a batch of prepared claims in one transaction with a few set-based statements (usually BEGIN, claim the
 * keys and lock their patients, check for duplicates, store everything, COMMIT), with the semantics of storing each
 * alone: its Idempotency-Key is honoured (including two requests with one key in the same batch), duplicates are
 * refused against stored claims and against earlier claims of the same batch, and one request's refusal never fails
 * another's. Runs on the claim store's worker thread (claim-store.worker.ts).
 */
export class ClaimBatchStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly claims: ClaimsRepository,
  ) {}

  /** One outcome per item, in order. Throws only when the batch as a whole could not be stored. */
  async store(items: PreparedClaim[]): Promise<Outcome[]> {
    try {
      return await this.storeWithRetry(items);
    } catch (error) {
      // A value Postgres refuses fails the statement, and so the batch: unless the database itself is failing, store
      // each claim alone, so that only the request that carried it fails.
      const state = sqlStateOf(error) ?? '';
      if (items.length === 1 || !SQLSTATE.test(state) || DATABASE_UNAVAILABLE.test(state)) throw error;
      const outcomes: Outcome[] = [];
      for (const item of items) {
        try {
          outcomes.push(...(await this.storeWithRetry([item])));
        } catch (alone) {
          outcomes.push({ ok: false, error: alone });
        }
      }
      return outcomes;
    }
  }

  private async storeWithRetry(items: PreparedClaim[]): Promise<Outcome[]> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.dataSource.transaction((em) => this.storeIn(em, items));
      } catch (error) {
        if (sqlStateOf(error) !== DEADLOCK || attempt >= 3) throw error;
      }
    }
  }

  /** One transaction for the batch; returns one outcome per item, in order. */
  private async storeIn(em: EntityManager, items: PreparedClaim[]): Promise<Outcome[]> {
    const outcomes: (Outcome | undefined)[] = items.map(() => undefined);
    // One leader per key; later items with the same key follow its outcome.
    const leaderOf = new Map<string, number>();
    items.forEach((p, i) => {
      if (!leaderOf.has(keyOf(p))) leaderOf.set(keyOf(p), i);
    });
    const leaders = [...leaderOf.values()];
    // Each claimed key's patient is locked in the same statement, after all the keys (see claimKeys): held to the
    // commit, it serialises submissions for one patient, so the duplicate check below sees every earlier one. After
    // this statement a batch waits on no lock another batch may hold (it reads, and inserts rows with fresh ids).
    const claimed = await claimKeys(
      em,
      leaders.map((i) => ({
        scope: items[i].scope,
        key: items[i].idempotencyKey,
        body: items[i].body,
        response: { status: 202, body: acceptedAnswer(items[i]) },
        lock: `patient:${items[i].claim.insurerId}:${items[i].claim.patientPseudonym}`,
      })),
    );

    // Keys used before: replay the stored response, or refuse a different body.
    const used = leaders.filter((i) => !claimed.has(keyOf(items[i])));
    const stored = await storedResponses<SubmittedClaimDto>(
      em,
      used.map((i) => ({ scope: items[i].scope, key: items[i].idempotencyKey })),
    );
    for (const i of used) {
      const row = stored.get(keyOf(items[i]))!;
      outcomes[i] = sameRequest(row.requestHash, items[i].body)
        ? { ok: true, response: { status: row.status, body: row.body, replayed: true } }
        : { ok: false, error: keyReused() };
    }

    // New keys: check resubmissions and duplicates, then store what passes.
    const fresh = leaders.filter((i) => claimed.has(keyOf(items[i])));
    for (const i of fresh) {
      const error = await this.checkPrior(em, items[i]);
      if (error) outcomes[i] = { ok: false, error };
    }
    const candidates = fresh.filter((i) => !outcomes[i]);
    // A statement of its own, after the locks: READ COMMITTED takes its snapshot per statement.
    const storedDups = await this.claims.findDuplicatesMany(
      em,
      candidates.flatMap((i) =>
        items[i].claim.lines.map((l) => ({
          candidate: i,
          ...l,
          patientPseudonym: items[i].claim.patientPseudonym,
          providerId: items[i].claim.providerId,
          except: items[i].prior?.id,
        })),
      ),
    );
    const dupsOf = new Map<number, { sequence: number; claimId: string }[]>();
    for (const d of storedDups) {
      dupsOf.set(d.candidate, [...(dupsOf.get(d.candidate) ?? []), { sequence: d.sequence, claimId: d.claim_id }]);
    }
    // Within the batch, the earlier claim of a service wins, exactly as if it had been stored first.
    const claimedInBatch = new Map<string, string>();
    const accepted: number[] = [];
    for (const i of candidates) {
      const c = items[i].claim;
      const lineKey = (l: NewClaim['lines'][number]) =>
        [c.patientPseudonym, c.providerId, l.system, l.code, l.servicedDate].join('\0');
      const dups = [...(dupsOf.get(i) ?? [])];
      for (const l of c.lines) {
        const earlier = claimedInBatch.get(lineKey(l));
        if (earlier) dups.push({ sequence: l.sequence, claimId: earlier });
      }
      if (dups.length > 0) {
        outcomes[i] = { ok: false, error: duplicate(dups, items[i].itemIndexOf) };
        continue;
      }
      for (const l of c.lines) claimedInBatch.set(lineKey(l), c.id);
      accepted.push(i);
      outcomes[i] = { ok: true, response: { status: 202, body: acceptedAnswer(items[i]), replayed: false } };
    }

    // Claims, lines, timeline and outbox rows in one statement.
    await this.claims.insertMany(
      em,
      accepted.map((i) => items[i].claim),
      accepted.map((i) => ({
        topic: Topics.ClaimsSubmitted,
        event: items[i].event,
        traceparent: items[i].traceparent,
      })),
    );
    // A refused request leaves its key unused, so a corrected retry with the same key is evaluated afresh.
    await releaseKeys(
      em,
      fresh.filter((i) => !outcomes[i]!.ok).map((i) => ({ scope: items[i].scope, key: items[i].idempotencyKey })),
    );

    return items.map((p, i) => {
      if (outcomes[i]) return outcomes[i]!;
      const leader = leaderOf.get(keyOf(p))!;
      const lead = outcomes[leader]!;
      if (!sameRequestBody(items[leader].body, p.body)) return { ok: false, error: keyReused() };
      return lead.ok ? { ok: true, response: { ...lead.response, replayed: true } } : lead;
    });
  }

  /** A resubmission may only replace this insurer's claim that will never be paid. */
  private async checkPrior(em: EntityManager, p: PreparedClaim): Promise<DomainError | undefined> {
    if (!p.prior) return undefined;
    const { id, pointer } = p.prior;
    const found = isUuid(id) ? await this.claims.find(id, em) : undefined;
    if (!found || found.insurer_id !== p.claim.insurerId) {
      return new DomainError('CLAIM.PRIOR_NOT_FOUND', 'unprocessable', 'The claim being resubmitted does not exist', [
        { pointer, detail: `no claim ${id} of this insurer` },
      ]);
    }
    if (!NEVER_PAID.includes(found.status)) {
      return new DomainError('CLAIM.PRIOR_STILL_ACTIVE', 'conflict', 'The claim being resubmitted may still be paid', [
        {
          pointer,
          detail:
            found.status === 'cancel-requested'
              ? `claim ${id} is cancel-requested; resubmit once payout has stopped it (status cancelled)`
              : `claim ${id} is ${found.status}; cancel it first`,
        },
      ]);
    }
    return undefined;
  }
}

function sqlStateOf(error: unknown): string | undefined {
  return (error as { driverError?: { code?: string } }).driverError?.code;
}

/** The answer to a stored claim, recorded with its Idempotency-Key before the claim is checked. */
function acceptedAnswer(p: PreparedClaim): SubmittedClaimDto {
  return { id: p.claim.id, status: 'submitted' };
}

function sameRequestBody(a: unknown, b: unknown): boolean {
  return requestFingerprint(a) === requestFingerprint(b);
}

function keyReused(): DomainError {
  return new DomainError(
    'IDEMPOTENCY.KEY_REUSED',
    'unprocessable',
    'This Idempotency-Key was used with a different request body',
    [{ pointer: '/headers/idempotency-key', detail: 'use a new key for a different request' }],
  );
}

function duplicate(dups: { sequence: number; claimId: string }[], itemIndexOf: Map<number, number>): DomainError {
  return new DomainError(
    'CLAIM.DUPLICATE',
    'conflict',
    'These services were already claimed for this patient; resubmit with related[].relationship "prior" if ' +
      'the earlier claim was cancelled (payout confirmed it stopped the payment), rejected or denied',
    dups
      .sort((a, b) => a.sequence - b.sequence)
      .map((d) => ({
        pointer: `/item/${itemIndexOf.get(d.sequence)}`,
        detail: `already claimed in claim ${d.claimId}`,
      })),
  );
}
