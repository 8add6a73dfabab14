import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import {
  attestationHash,
  CloudEvent,
  TopicName,
  Topics,
  treatmentStatement,
  verifyTreatmentStatement,
} from '@claimchain/wire';
import {
  claimKeys,
  DomainError,
  Principal,
  releaseKeys,
  requestFingerprint,
  sameRequest,
  StoredResponse,
  storedResponses,
} from '@claimchain/http';
import { buildEvent, GroupCommit, OutboxWriter } from '@claimchain/messaging';
import {
  ConfirmationContext,
  ConfirmationOutcome,
  ConfirmationsRepository,
  KnownClaim,
  NewConfirmation,
} from '../confirmations.repository';
import { AttestationsRepository } from '../../attestations/attestations.repository';
import { SignaturePolicy } from '../../attestations/signature-policy';
import { CLAIM_CANCELLED, ConfirmationReason, NOT_CLAIM_PROVIDER, SIGNATURE_REQUIRED } from '../confirmation-reasons';
import { ConfirmTreatmentRequest } from './confirm-treatment.request';
import { matchTreatments, PerformedTreatment, unclaimedReasons } from './treatment-matcher';

export const TREATMENT_VERIFICATION_SOURCE = 'claimchain/treatment-verification';

/** Injection token: how many confirmations one provider may have waiting for their claims. */
export const MAX_PENDING_PER_PROVIDER = Symbol('MAX_PENDING_PER_PROVIDER');
/** What a provider over the bound is told to wait: claims usually arrive within seconds of their confirmations. */
const PENDING_RETRY_AFTER_SECONDS = 60;
/** How far in the future an attestation's signing time may lie: the provider's clock may run a little ahead. */
const SIGNED_AT_SKEW_MS = 5 * 60_000;

export interface ConfirmationResult {
  confirmationId: string;
  claimId: string;
  outcome: ConfirmationOutcome;
  /**
   * Why: per claim line not verified (a `verified` confirmation may leave some lines unverified: payout denies
   * those), per performance no line used (NOT_CLAIMED), or for the whole confirmation.
   */
  reasons: ConfirmationReason[];
  /** The rejected confirmation this one corrected, if it did. */
  supersedes?: string;
}

/** One POST's share of a group commit, and what came of it. */
interface ConfirmationRequest {
  request: ConfirmTreatmentRequest;
  provider: Principal;
  idempotencyKey: string;
  outcome?: StoredResponse<ConfirmationResult> | DomainError;
}

const scopeOf = (provider: Principal) => `${provider.tenant}:confirm-treatment`;
const keyOf = (item: ConfirmationRequest) => `${scopeOf(item.provider)}\0${item.idempotencyKey}`;

/**
 * Matches a provider's confirmation against the claim and records the outcome with its event in one transaction.
 *
 * Only the claim's own provider's confirmation counts (ADR 12). A claim has one deciding confirmation: a second from
 * its provider is a conflict. A confirmation that arrives before its claim is kept `pending` (one per provider and
 * claim id) and decided the moment the claim arrives (`decidePendingFor`), where any other provider's is discarded.
 * A confirmation for a claim that names another provider is answered exactly as one for a claim that has not
 * arrived (202 pending, then expired), so nobody learns whether someone else's claim exists. A claim whose
 * confirmation was rejected may be confirmed again by its provider: the correction supersedes the rejected one
 * (kept, `superseded`, for the provider to read) and decides the claim (ADR 19). Each provider may have
 * at most MAX_PENDING_PER_PROVIDER waiting (429 beyond; a few more if replicas take them at once), and pending ones
 * expire (PendingConfirmationsExpiry).
 *
 * Every POST carries an Idempotency-Key: a retry with the same key and body gets the original answer. Confirmations
 * posted together share a transaction (a group commit: lock the claims, claim the keys, read, write, a few
 * statements for all), each with its own answer; if that transaction fails, each is tried again alone, so one
 * cannot fail another.
 */
@Injectable()
export class ConfirmTreatmentService {
  private readonly group = new GroupCommit<ConfirmationRequest>((batch) => this.confirmInTransaction(batch));

  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: ConfirmationsRepository,
    private readonly outbox: OutboxWriter,
    private readonly attestations: AttestationsRepository,
    private readonly signaturePolicy: SignaturePolicy,
    @Inject(MAX_PENDING_PER_PROVIDER) private readonly maxPendingPerProvider: number,
  ) {}

  async confirm(
    request: ConfirmTreatmentRequest,
    provider: Principal,
    idempotencyKey: string,
  ): Promise<StoredResponse<ConfirmationResult>> {
    const item: ConfirmationRequest = { request, provider, idempotencyKey };
    try {
      await this.group.commit(item);
    } catch {
      item.outcome = undefined;
      await this.confirmInTransaction([item]);
    }
    if (item.outcome instanceof DomainError) throw item.outcome;
    return item.outcome!;
  }

  private confirmInTransaction(items: ConfirmationRequest[]): Promise<void> {
    return this.dataSource.transaction((em) => this.confirmMany(em, items));
  }

  /**
   * Decides each request in order, as if each were alone: a second one for a claim, even in the same batch, is a
   * conflict; a second request with a key follows the first's answer. Locks the claims, then claims the keys, each
   * in one statement and one global order, so two batches cannot wait on each other in a cycle.
   */
  private async confirmMany(em: EntityManager, items: ConfirmationRequest[]): Promise<void> {
    const leaderOf = new Map<string, ConfirmationRequest>();
    for (const item of items) if (!leaderOf.has(keyOf(item))) leaderOf.set(keyOf(item), item);
    const leaders = [...leaderOf.values()];
    await this.repo.lockClaimIds(em, [...new Set(leaders.map((i) => i.request.claimId))]);
    // Each key is stored with a placeholder and given its answer below, in the same transaction: a retry waits on
    // the key's row until then, so it never sees the placeholder.
    const claimed = await claimKeys(
      em,
      leaders.map((i) => ({
        scope: scopeOf(i.provider),
        key: i.idempotencyKey,
        body: i.request,
        response: { status: 0, body: null },
      })),
    );

    const used = leaders.filter((i) => !claimed.has(keyOf(i)));
    const stored = await storedResponses<ConfirmationResult>(
      em,
      used.map((i) => ({ scope: scopeOf(i.provider), key: i.idempotencyKey })),
    );
    for (const item of used) {
      const row = stored.get(keyOf(item))!;
      item.outcome = sameRequest(row.requestHash, item.request)
        ? { status: row.status, body: row.body, replayed: true }
        : keyReused();
    }

    const fresh = leaders.filter((i) => claimed.has(keyOf(i)));
    await this.decide(em, fresh);
    await this.repo.answerKeys(
      em,
      fresh.flatMap((i) =>
        i.outcome instanceof DomainError
          ? []
          : [{ scope: scopeOf(i.provider), key: i.idempotencyKey, status: i.outcome!.status, body: i.outcome!.body }],
      ),
    );
    // A refused request leaves its key unused, so a retry with the same key is evaluated afresh.
    await releaseKeys(
      em,
      fresh
        .filter((i) => i.outcome instanceof DomainError)
        .map((i) => ({ scope: scopeOf(i.provider), key: i.idempotencyKey })),
    );

    for (const item of items) {
      const leader = leaderOf.get(keyOf(item))!;
      if (leader === item) continue;
      const lead = leader.outcome!;
      if (requestFingerprint(leader.request) !== requestFingerprint(item.request)) item.outcome = keyReused();
      else item.outcome = lead instanceof DomainError ? lead : { ...lead, replayed: true };
    }
  }

  /** Decides requests whose keys are new, in order, and records what they create in one statement. */
  private async decide(em: EntityManager, all: ConfirmationRequest[]): Promise<void> {
    // Signatures first: whether one verifies never depends on the claim, so it tells nothing about the claim.
    const hashes = await this.checkAttestations(em, all);
    const items = all.filter((i) => !i.outcome);
    if (items.length === 0) return;
    const context = await this.repo.confirmationContext(em, [...new Set(items.map((i) => i.request.claimId))]);
    const ownClaim = (i: ConfirmationRequest) =>
      context.claims.get(i.request.claimId)?.provider_id === i.provider.tenant;
    const termsOf = await this.signaturePolicy.termsFor(
      em,
      items.filter(ownClaim).map((i) => context.claims.get(i.request.claimId)!.insurer_id),
    );
    // Claims this batch decides: a second request for one of them is a conflict even if the first was rejected.
    const decidedNow = new Set<string>();
    const superseded: { id: string; supersededBy: string }[] = [];
    const pending = await this.repo.pendingCounts(em, [
      ...new Set(items.filter((i) => !ownClaim(i)).map((i) => i.provider.tenant)),
    ]);
    const rows: NewConfirmation[] = [];
    const events: { topic: TopicName; event: CloudEvent }[] = [];
    for (const item of items) {
      const { request, provider } = item;
      const id = uuidv7();
      const hash = hashes.get(item);
      const base = {
        id,
        claimId: request.claimId,
        providerId: provider.tenant,
        performed: request.performed,
        attestation: request.attestation,
        attestationHash: hash,
      };
      if (ownClaim(item)) {
        const claim = context.claims.get(request.claimId)!;
        const terms = termsOf(claim.insurer_id);
        const refusal =
          this.refusalForOwnClaim(context, request.claimId, decidedNow) ??
          (terms.signatureRequired && !hash ? signatureRequiredError() : undefined);
        if (refusal) {
          item.outcome = refusal;
          continue;
        }
        const { result, topic, event } = this.match(claim, id, request.performed, terms.dateToleranceDays, hash);
        const corrected = context.deciding.get(request.claimId);
        if (corrected) {
          superseded.push({ id: corrected.id, supersededBy: id });
          result.supersedes = corrected.id;
        }
        decidedNow.add(request.claimId);
        rows.push({ ...base, outcome: result.outcome, reasons: result.reasons, supersedes: result.supersedes });
        events.push({ topic, event });
        item.outcome = { status: 201, body: result, replayed: false };
        continue;
      }
      // A claim not (yet) here, or one naming another provider: the same answer either way.
      const waiting = context.pendingBy.get(request.claimId) ?? new Set<string>();
      if (waiting.has(provider.tenant)) {
        item.outcome = new DomainError(
          'CONFIRMATION.ALREADY_RECORDED',
          'conflict',
          `This provider's confirmation for claim ${request.claimId} is already waiting for the claim`,
        );
        continue;
      }
      if ((pending.get(provider.tenant) ?? 0) >= this.maxPendingPerProvider) {
        item.outcome = this.tooManyPending();
        continue;
      }
      pending.set(provider.tenant, (pending.get(provider.tenant) ?? 0) + 1);
      context.pendingBy.set(request.claimId, waiting.add(provider.tenant));
      rows.push({ ...base, outcome: 'pending', reasons: [] });
      item.outcome = {
        status: 202,
        body: { confirmationId: id, claimId: request.claimId, outcome: 'pending', reasons: [] },
        replayed: false,
      };
    }
    await this.repo.supersede(em, superseded);
    await this.repo.insertConfirmations(em, rows, events);
  }

  /**
   * Verifies each signed request's attestation against the caller's registered key, in one query for the batch;
   * a request whose attestation fails gets its refusal (unknown or revoked key, a signature that does not verify:
   * another key, or the confirmation altered after signing, a signing time in the future). Returns the hash of each
   * attestation that verified.
   */
  private async checkAttestations(
    em: EntityManager,
    items: readonly ConfirmationRequest[],
  ): Promise<Map<ConfirmationRequest, string>> {
    const signed = items.filter((i) => i.request.attestation);
    const keys = await this.attestations.keysFor(
      em,
      signed.map((i) => ({ providerId: i.provider.tenant, keyId: i.request.attestation!.keyId })),
    );
    const hashes = new Map<ConfirmationRequest, string>();
    for (const item of signed) {
      const attestation = item.request.attestation!;
      const key = keys.get(`${item.provider.tenant}\0${attestation.keyId}`);
      const statement = treatmentStatement({
        claimId: item.request.claimId,
        providerId: item.provider.tenant,
        performed: item.request.performed,
        signedAt: attestation.signedAt,
      });
      if (!key) {
        item.outcome = attestationRefused(
          'CONFIRMATION.SIGNATURE_KEY_UNKNOWN',
          '/attestation/keyId',
          'not a key registered for this provider',
        );
      } else if (key.revoked_at) {
        item.outcome = attestationRefused(
          'CONFIRMATION.SIGNATURE_KEY_REVOKED',
          '/attestation/keyId',
          `revoked at ${key.revoked_at.toISOString()}`,
        );
      } else if (Date.parse(attestation.signedAt) > Date.now() + SIGNED_AT_SKEW_MS) {
        item.outcome = attestationRefused('CONFIRMATION.SIGNATURE_INVALID', '/attestation/signedAt', 'in the future');
      } else if (!verifyTreatmentStatement(key.public_jwk, statement, attestation.signature)) {
        item.outcome = attestationRefused(
          'CONFIRMATION.SIGNATURE_INVALID',
          '/attestation/signature',
          'does not verify over this confirmation with this key: signed by another key, or altered after signing',
        );
      } else {
        hashes.set(item, attestationHash(statement, attestation));
      }
    }
    return hashes;
  }

  /** Why the claim's own provider may not confirm it now, if it may not. */
  /**
   * Why the claim's own provider may not confirm it now, if it may not: the claim was cancelled, or it has a deciding
   * confirmation other than a rejected one (a rejected one may be corrected, once per request: not twice in a batch).
   */
  private refusalForOwnClaim(
    context: ConfirmationContext,
    claimId: string,
    decidedNow: ReadonlySet<string>,
  ): DomainError | undefined {
    if (context.cancelled.has(claimId)) {
      return new DomainError('CONFIRMATION.CLAIM_CANCELLED', 'conflict', `The insurer cancelled claim ${claimId}`);
    }
    const deciding = context.deciding.get(claimId);
    if (decidedNow.has(claimId) || (deciding && deciding.outcome !== 'rejected')) {
      return new DomainError(
        'CONFIRMATION.ALREADY_RECORDED',
        'conflict',
        `Claim ${claimId} already has a confirmation` +
          (deciding?.outcome === 'verified' || deciding?.outcome === 'withdrawal-refused'
            ? ' that verified it'
            : deciding?.outcome === 'withdrawal-requested'
              ? ' whose withdrawal payout has not answered yet: confirm again once it is withdrawn'
              : ''),
      );
    }
    return undefined;
  }

  /**
   * Called when claims arrive: decides the confirmations that were waiting for them, in a few statements for all.
   * The claim's own provider's is matched (or cancelled, if the claim's cancellation came first); any other
   * provider's is discarded with a reason only that provider can read, and without an event, so nobody can decide
   * another provider's claim.
   */
  async decidePendingFor(em: EntityManager, claims: readonly KnownClaim[]): Promise<void> {
    const byId = new Map(claims.map((c) => [c.claim_id, c]));
    const pending = await this.repo.pendingFor(em, [...byId.keys()]);
    if (pending.length === 0) return;
    const termsOf = await this.signaturePolicy.termsFor(
      em,
      claims.map((c) => c.insurer_id),
    );
    const settled: { id: string; outcome: Exclude<ConfirmationOutcome, 'pending'>; reasons: unknown }[] = [];
    const events: { topic: TopicName; event: CloudEvent }[] = [];
    for (const confirmation of pending) {
      const claim = byId.get(confirmation.claim_id)!;
      if (confirmation.provider_id !== claim.provider_id) {
        settled.push({ id: confirmation.id, outcome: 'discarded', reasons: [NOT_CLAIM_PROVIDER] });
        continue;
      }
      if (confirmation.cancelled) {
        settled.push({ id: confirmation.id, outcome: 'cancelled', reasons: [CLAIM_CANCELLED] });
        continue;
      }
      const terms = termsOf(claim.insurer_id);
      const { result, topic, event } =
        terms.signatureRequired && !confirmation.attestation_hash
          ? this.reject(claim, confirmation.id, [SIGNATURE_REQUIRED])
          : this.match(
              claim,
              confirmation.id,
              confirmation.performed,
              terms.dateToleranceDays,
              confirmation.attestation_hash ?? undefined,
            );
      settled.push({ id: confirmation.id, outcome: result.outcome, reasons: result.reasons });
      events.push({ topic, event });
    }
    await this.repo.settlePending(em, settled);
    await this.outbox.addBuilt(em, events);
  }

  private tooManyPending(): DomainError {
    return new DomainError(
      'CONFIRMATION.TOO_MANY_PENDING',
      'too-many-requests',
      `This provider already has ${this.maxPendingPerProvider} confirmations waiting for their claims: retry once some have arrived`,
      [],
      PENDING_RETRY_AFTER_SECONDS,
    );
  }

  /**
   * Matches each claimed line on its own (within the insurer's date tolerance): verified when at least one line is,
   * and the event lists the lines not verified and what was performed but not claimed (each only when there is
   * some, so a fully matched claim's event is as it always was).
   */
  private match(
    claim: KnownClaim,
    confirmationId: string,
    performed: PerformedTreatment[],
    dateToleranceDays: number,
    attestationHash?: string,
  ): Decision {
    const match = matchTreatments(claim.items, performed, { dateToleranceDays });
    const reasons: ConfirmationReason[] = [...match.unverified, ...unclaimedReasons(match.unclaimed)];
    if (match.outcome === 'rejected') return this.reject(claim, confirmationId, reasons);
    const now = new Date();
    return {
      result: { confirmationId, claimId: claim.claim_id, outcome: 'verified', reasons },
      topic: Topics.TreatmentsVerified,
      event: buildEvent(Topics.TreatmentsVerified, {
        ...eventCommon(claim, now),
        data: {
          claimId: claim.claim_id,
          confirmationId,
          providerId: claim.provider_id,
          items: match.items,
          verifiedAt: now.toISOString(),
          ...(attestationHash ? { attestationHash } : {}),
          ...(match.unverified.length > 0 ? { unverified: match.unverified } : {}),
          ...(match.unclaimed.length > 0 ? { unclaimed: match.unclaimed } : {}),
        },
      }),
    };
  }

  private reject(claim: KnownClaim, confirmationId: string, reasons: ConfirmationReason[]): Decision {
    const now = new Date();
    return {
      result: { confirmationId, claimId: claim.claim_id, outcome: 'rejected', reasons },
      topic: Topics.TreatmentsRejected,
      event: buildEvent(Topics.TreatmentsRejected, {
        ...eventCommon(claim, now),
        data: {
          claimId: claim.claim_id,
          confirmationId,
          providerId: claim.provider_id,
          reasons: reasons.map((r) => ({
            ...('sequence' in r ? { sequence: r.sequence } : {}),
            code: r.code,
            message: r.message,
          })),
          rejectedAt: now.toISOString(),
        },
      }),
    };
  }
}

/** The outcome of matching a confirmation against its claim, and the event that announces it. */
interface Decision {
  result: ConfirmationResult & { outcome: 'verified' | 'rejected' };
  topic: TopicName;
  event: CloudEvent;
}

/**
 * What every treatment event carries: the claim's correlation, and as its cause the claim's arrival when that decided
 * it, else (buildEvent's default) the provider's request.
 */
function eventCommon(claim: KnownClaim, now: Date) {
  return {
    source: TREATMENT_VERIFICATION_SOURCE,
    subject: claim.claim_id,
    tenantid: claim.insurer_id,
    time: now,
    ...(claim.correlation_id ? { correlationid: claim.correlation_id } : {}),
    ...(claim.submitted_event_id ? { causationid: claim.submitted_event_id } : {}),
  };
}

function attestationRefused(code: string, pointer: string, detail: string): DomainError {
  return new DomainError(code, 'unprocessable', "The confirmation's attestation was refused", [{ pointer, detail }]);
}

function signatureRequiredError(): DomainError {
  return new DomainError(
    'CONFIRMATION.SIGNATURE_REQUIRED',
    'unprocessable',
    "The claim's insurer requires a signed confirmation",
    [{ pointer: '/attestation', detail: 'sign the confirmation with a key registered for this provider' }],
  );
}

function keyReused(): DomainError {
  return new DomainError(
    'IDEMPOTENCY.KEY_REUSED',
    'unprocessable',
    'This Idempotency-Key was used with a different request body',
    [{ pointer: '/headers/idempotency-key', detail: 'use a new key for a different request' }],
  );
}
