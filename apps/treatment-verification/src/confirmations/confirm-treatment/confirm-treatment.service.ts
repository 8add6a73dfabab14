import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { CloudEvent, TopicName, Topics } from '@claimchain/contracts';
import { DomainError, Principal } from '@claimchain/http';
import { buildEvent, GroupCommit, OutboxWriter } from '@claimchain/messaging';
import {
  ConfirmationOutcome,
  ConfirmationRow,
  ConfirmationsRepository,
  KnownClaim,
  NewConfirmation,
} from '../confirmations.repository';
import { ConfirmTreatmentRequest } from './confirm-treatment.request';
import { MatchReason, matchTreatments, PerformedTreatment } from './treatment-matcher';

export const TREATMENT_VERIFICATION_SOURCE = 'claimchain/treatment-verification';

/** Injection token: how many confirmations one provider may have waiting for their claims. */
export const MAX_PENDING_PER_PROVIDER = Symbol('MAX_PENDING_PER_PROVIDER');
/** What a provider over the bound is told to wait: claims usually arrive within seconds of their confirmations. */
const PENDING_RETRY_AFTER_SECONDS = 60;

export interface ConfirmationResult {
  confirmationId: string;
  claimId: string;
  outcome: ConfirmationOutcome;
  reasons: MatchReason[];
}

function toResult(row: ConfirmationRow): ConfirmationResult {
  return {
    confirmationId: row.id,
    claimId: row.claim_id,
    outcome: row.outcome,
    reasons: row.reasons as MatchReason[],
  };
}

/** One POST's share of a group commit, and what came of it. */
interface ConfirmationRequest {
  request: ConfirmTreatmentRequest;
  provider: Principal;
  outcome?: ConfirmationResult | DomainError;
}

/**
 * Matches a provider's confirmation against the claim and records the outcome with its event in one transaction.
 * A claim has one confirmation: a second is a conflict, not a second verification. A confirmation that arrives
 * before the claim is kept `pending` and decided the moment the claim arrives (`decidePendingFor`). Each provider may
 * have at most MAX_PENDING_PER_PROVIDER waiting (429 beyond; a few more if replicas take them at once), and the
 * pruner expires them (pendingConfirmationsRetention), so confirmations of claims that never come cannot pile up.
 *
 * Confirmations posted together share a transaction (a group commit: lock, read, write, three statements for all),
 * each with its own answer; if that transaction fails, each is tried again alone, so one cannot fail another.
 */
@Injectable()
export class ConfirmTreatmentService {
  private readonly logger = new Logger(ConfirmTreatmentService.name);
  private readonly group = new GroupCommit<ConfirmationRequest>((batch) => this.confirmInTransaction(batch));

  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: ConfirmationsRepository,
    private readonly outbox: OutboxWriter,
    @Inject(MAX_PENDING_PER_PROVIDER) private readonly maxPendingPerProvider: number,
  ) {}

  async confirm(request: ConfirmTreatmentRequest, provider: Principal): Promise<ConfirmationResult> {
    const item: ConfirmationRequest = { request, provider };
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

  /** Decides each request in order (a second one for a claim, even in the same batch, is a conflict). */
  private async confirmMany(em: EntityManager, items: ConfirmationRequest[]): Promise<void> {
    const claimIds = [...new Set(items.map((i) => i.request.claimId))];
    await this.repo.lockClaimIds(em, claimIds);
    const { claims, confirmed } = await this.repo.confirmationContext(em, claimIds);
    const awaiting = items.filter((i) => !claims.has(i.request.claimId)).map((i) => i.provider.tenant);
    const pending = await this.repo.pendingCounts(em, [...new Set(awaiting)]);
    const rows: NewConfirmation[] = [];
    const events: { topic: TopicName; event: CloudEvent }[] = [];
    for (const item of items) {
      const { request, provider } = item;
      const claim = claims.get(request.claimId);
      if (claim && claim.provider_id !== provider.tenant) {
        item.outcome = this.claimNotFound(request.claimId);
        continue;
      }
      if (confirmed.has(request.claimId)) {
        item.outcome = new DomainError(
          'CONFIRMATION.ALREADY_RECORDED',
          'conflict',
          `Claim ${request.claimId} already has a confirmation`,
        );
        continue;
      }
      if (!claim && (pending.get(provider.tenant) ?? 0) >= this.maxPendingPerProvider) {
        item.outcome = this.tooManyPending();
        continue;
      }
      confirmed.add(request.claimId);
      const id = uuidv7();
      const base = { id, claimId: request.claimId, providerId: provider.tenant, performed: request.performed };
      if (!claim) {
        pending.set(provider.tenant, (pending.get(provider.tenant) ?? 0) + 1);
        rows.push({ ...base, outcome: 'pending', reasons: [] });
        item.outcome = { confirmationId: id, claimId: request.claimId, outcome: 'pending', reasons: [] };
        continue;
      }
      const { result, topic, event } = this.match(claim, id, request.performed);
      rows.push({ ...base, outcome: result.outcome, reasons: result.reasons });
      events.push({ topic, event });
      item.outcome = result;
    }
    await this.repo.insertConfirmations(em, rows, events);
  }

  /** A provider sees only its own confirmations; anyone else's is a 404, as if it did not exist. */
  async get(id: string, provider: Principal): Promise<ConfirmationResult> {
    const row = await this.repo.findConfirmation(this.dataSource.manager, id);
    if (!row || row.provider_id !== provider.tenant) {
      throw new DomainError('CONFIRMATION.NOT_FOUND', 'not-found', `No confirmation ${id}`);
    }
    return toResult(row);
  }

  /**
   * Called when claims arrive: decides the confirmations that were waiting for them, in a few statements for all.
   * One posted by a provider the claim does not name is discarded without an event, so nobody can decide another
   * provider's claim early.
   */
  async decidePendingFor(em: EntityManager, claims: readonly KnownClaim[]): Promise<void> {
    const byId = new Map(claims.map((c) => [c.claim_id, c]));
    const pending = await this.repo.pendingFor(em, [...byId.keys()]);
    if (pending.length === 0) return;
    const decided: { id: string; outcome: 'verified' | 'rejected'; reasons: unknown }[] = [];
    const discarded: string[] = [];
    const events: { topic: TopicName; event: CloudEvent }[] = [];
    for (const confirmation of pending) {
      const claim = byId.get(confirmation.claim_id)!;
      if (confirmation.provider_id !== claim.provider_id) {
        this.logger.warn(
          `discarding confirmation ${confirmation.id}: ${confirmation.provider_id} is not the claim's provider`,
        );
        discarded.push(confirmation.id);
        continue;
      }
      const { result, topic, event } = this.match(claim, confirmation.id, confirmation.performed);
      decided.push({
        id: confirmation.id,
        outcome: result.outcome as 'verified' | 'rejected',
        reasons: result.reasons,
      });
      events.push({ topic, event });
    }
    await this.repo.settlePending(em, decided, discarded);
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

  private claimNotFound(claimId: string): DomainError {
    return new DomainError('CLAIM.NOT_FOUND', 'not-found', `No claim ${claimId} names this provider`);
  }

  /** The outcome of matching a confirmation against its claim, and the event that announces it. */
  private match(
    claim: KnownClaim,
    confirmationId: string,
    performed: PerformedTreatment[],
  ): { result: ConfirmationResult; topic: TopicName; event: CloudEvent } {
    const match = matchTreatments(claim.items, performed);
    const now = new Date();
    const common = {
      source: TREATMENT_VERIFICATION_SOURCE,
      subject: claim.claim_id,
      tenantid: claim.insurer_id,
      time: now,
    };
    const base = { claimId: claim.claim_id, confirmationId, providerId: claim.provider_id };
    if (match.outcome === 'verified') {
      return {
        result: { confirmationId, claimId: claim.claim_id, outcome: 'verified', reasons: [] },
        topic: Topics.TreatmentsVerified,
        event: buildEvent(Topics.TreatmentsVerified, {
          ...common,
          data: { ...base, items: match.items, verifiedAt: now.toISOString() },
        }),
      };
    }
    return {
      result: { confirmationId, claimId: claim.claim_id, outcome: 'rejected', reasons: match.reasons },
      topic: Topics.TreatmentsRejected,
      event: buildEvent(Topics.TreatmentsRejected, {
        ...common,
        data: { ...base, reasons: match.reasons, rejectedAt: now.toISOString() },
      }),
    };
  }
}
