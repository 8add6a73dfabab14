import { Injectable } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { v7 as uuidv7, validate as isUuid } from 'uuid';
import { Topics } from '@claimchain/contracts';
import { DomainError, oncePerKey, Principal, StoredResponse } from '@claimchain/http';
import { OutboxWriter } from '@claimchain/messaging';
import { ClaimsRepository } from '../../persistence/claims.repository';
import { NEVER_PAID } from '../claim-status';
import { FhirClaimRequest, referenceId, resubmissionOf } from './fhir-claim.request';

export const CLAIM_INTAKE_SOURCE = 'claimchain/claim-intake';

export interface SubmittedClaimDto {
  id: string;
  status: 'submitted';
}

function money(value: number): string {
  return value.toFixed(2);
}

/**
 * Accepts a validated FHIR claim: stores it and its `claims.submitted.v1` event in one transaction, so an
 * acknowledged claim is never lost and never announced without being stored. The Idempotency-Key makes a retried
 * POST return the original answer; a second claim for a service already claimed (same patient, provider, code and
 * date) is refused unless it resubmits a claim that will never be paid.
 */
@Injectable()
export class SubmitClaimService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly claims: ClaimsRepository,
    private readonly outbox: OutboxWriter,
    private readonly pseudonymKey: string,
  ) {}

  /** Keyed per insurer, so the same patient is unlinkable across tenants and unreadable on Kafka and the ledger. */
  pseudonymise(insurerId: string, patientReference: string): string {
    return createHmac('sha256', this.pseudonymKey).update(`${insurerId}\n${patientReference}`).digest('hex');
  }

  async submit(
    claim: FhirClaimRequest,
    caller: Principal,
    idempotencyKey: string,
  ): Promise<StoredResponse<SubmittedClaimDto>> {
    const insurerId = referenceId(claim.insurer);
    if (insurerId !== caller.tenant) {
      throw new DomainError('CLAIM.INSURER_NOT_CALLER', 'unprocessable', 'The claim names another insurer', [
        { pointer: '/insurer/reference', detail: `must be Organization/${caller.tenant}, the calling insurer` },
      ]);
    }
    return this.dataSource.transaction((em) =>
      oncePerKey(em, `${caller.tenant}:submit-claim`, idempotencyKey, claim, async () => ({
        status: 202,
        body: await this.create(em, claim, insurerId),
      })),
    );
  }

  private async create(em: EntityManager, claim: FhirClaimRequest, insurerId: string): Promise<SubmittedClaimDto> {
    const id = uuidv7();
    const providerId = referenceId(claim.provider);
    const patientPseudonym = this.pseudonymise(insurerId, claim.patient.reference);
    const focal = claim.insurance.find((i) => i.focal) ?? claim.insurance[0];
    const lines = claim.item.map((item) => ({
      sequence: item.sequence,
      system: item.productOrService.coding[0].system,
      code: item.productOrService.coding[0].code,
      servicedDate: item.servicedDate,
    }));
    const replaces = await this.checkResubmission(em, claim, insurerId);
    await this.claims.lockPatient(em, insurerId, patientPseudonym);
    const duplicates = await this.claims.findDuplicates(em, { patientPseudonym, providerId, except: replaces }, lines);
    if (duplicates.length > 0) {
      throw new DomainError(
        'CLAIM.DUPLICATE',
        'conflict',
        'These services were already claimed for this patient; resubmit with related[].relationship "prior" if ' +
          'the earlier claim was cancelled, rejected or denied',
        duplicates.map((d) => ({
          pointer: `/item/${claim.item.findIndex((i) => i.sequence === d.sequence)}`,
          detail: `already claimed in claim ${d.claim_id}`,
        })),
      );
    }
    const submittedAt = new Date();
    const coverage = referenceId(focal.coverage);
    await this.claims.insert(em, {
      id,
      insurerId,
      providerId,
      patientPseudonym,
      coverage,
      currency: claim.total.currency,
      total: money(claim.total.value),
      resource: claim,
      resubmissionOf: replaces,
      lines,
      submittedAt,
    });
    const event = await this.outbox.add(em, Topics.ClaimsSubmitted, {
      source: CLAIM_INTAKE_SOURCE,
      subject: id,
      tenantid: insurerId,
      time: submittedAt,
      data: {
        claimId: id,
        insurerId,
        providerId,
        patientPseudonym,
        coverage,
        currency: claim.total.currency,
        total: money(claim.total.value),
        items: claim.item.map((item, i) => ({
          ...lines[i],
          quantity: item.quantity.value,
          unitPrice: money(item.unitPrice.value),
          net: money(item.net.value),
        })),
        submittedAt: submittedAt.toISOString(),
      },
    });
    await this.claims.recordEvent(em, event);
    return { id, status: 'submitted' };
  }

  /** A resubmission may only replace this insurer's claim that will never be paid. */
  private async checkResubmission(
    em: EntityManager,
    claim: FhirClaimRequest,
    insurerId: string,
  ): Promise<string | undefined> {
    const prior = resubmissionOf(claim);
    if (prior === undefined) return undefined;
    const index = claim.related!.findIndex((r) => r.claim && referenceId(r.claim) === prior);
    const pointer = `/related/${index}/claim/reference`;
    const found = isUuid(prior) ? await this.claims.find(prior, em) : undefined;
    if (!found || found.insurer_id !== insurerId) {
      throw new DomainError('CLAIM.PRIOR_NOT_FOUND', 'unprocessable', 'The claim being resubmitted does not exist', [
        { pointer, detail: `no claim ${prior} of this insurer` },
      ]);
    }
    if (!NEVER_PAID.includes(found.status)) {
      throw new DomainError('CLAIM.PRIOR_STILL_ACTIVE', 'conflict', 'The claim being resubmitted may still be paid', [
        { pointer, detail: `claim ${prior} is ${found.status}; cancel it first` },
      ]);
    }
    return prior;
  }
}
