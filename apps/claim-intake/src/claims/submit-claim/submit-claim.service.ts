import { Injectable } from '@nestjs/common';
import { createHash, createHmac } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { CLAIM_TYPE_SYSTEM, ClaimType, Topics } from '@claimchain/wire';
import { DomainError, Principal, StoredResponse } from '@claimchain/http';
import { buildEvent, eventTraceparentOf } from '@claimchain/messaging';
import { ClaimSubmissionBatcher, PreparedClaim, SubmittedClaimDto } from '../claim-store/claim-submission.batcher';
import { FhirClaimRequest, referenceId, resubmissionOf } from '../fhir/fhir-claim.request';
import { pooledRandomBytes } from './pooled-random';
import { formatAmount as money } from '../fhir/exact-decimal';
import { CLAIM_INTAKE_SOURCE } from '../../claim-intake.source';

export { SubmittedClaimDto } from '../claim-store/claim-submission.batcher';

/** The claim's kind from its `type`, when it names one of the claim-type CodeSystem's (payout's remittance repeats it). */
function claimTypeOf(claim: FhirClaimRequest): { claimType?: ClaimType } {
  const type = claim.type as { coding?: { system?: unknown; code?: unknown }[] } | undefined;
  const code = type?.coding?.find((c) => c.system === CLAIM_TYPE_SYSTEM)?.code;
  const parsed = ClaimType.safeParse(code);
  return parsed.success ? { claimType: parsed.data } : {};
}

/**
 * Accepts a validated FHIR claim: everything that needs no database (the caller check, pseudonymisation, the
 * `claims.submitted.v1` event) is done here; the batcher then stores the claim, its event (outbox) and its
 * Idempotency-Key response in one committed transaction, so an acknowledged claim is never lost and never announced
 * without being stored. A second claim for a service already claimed (same patient, provider, code and date) is
 * refused unless it resubmits a claim that will never be paid.
 */
@Injectable()
export class SubmitClaimService {
  constructor(
    private readonly batcher: ClaimSubmissionBatcher,
    private readonly pseudonymKey: string,
  ) {}

  /** Keyed per insurer, so the same patient is unlinkable across tenants and unreadable on Kafka and the ledger. */
  pseudonymise(insurerId: string, patientReference: string): string {
    return createHmac('sha256', this.pseudonymKey).update(`${insurerId}\n${patientReference}`).digest('hex');
  }

  /** `submission` is the request body exactly as received; it is stored as is and committed to on the ledger. */
  async submit(
    claim: FhirClaimRequest,
    caller: Principal,
    idempotencyKey: string,
    submission: string = JSON.stringify(claim),
  ): Promise<StoredResponse<SubmittedClaimDto>> {
    const insurerId = referenceId(claim.insurer);
    if (insurerId !== caller.tenant) {
      throw new DomainError('CLAIM.INSURER_NOT_CALLER', 'unprocessable', 'The claim names another insurer', [
        { pointer: '/insurer/reference', detail: `must be Organization/${caller.tenant}, the calling insurer` },
      ]);
    }
    return this.batcher.submit(
      this.prepare(claim, submission, insurerId, `${caller.tenant}:submit-claim`, idempotencyKey),
    );
  }

  private prepare(
    claim: FhirClaimRequest,
    submission: string,
    insurerId: string,
    scope: string,
    idempotencyKey: string,
  ): PreparedClaim {
    // uuid's v7 already draws from a pool of its own (256 bytes, one refill per 16 ids); handing it ours would turn
    // off its counter that keeps ids of one millisecond in order.
    const claimId = uuidv7();
    const submissionSalt = pooledRandomBytes(16);
    const submissionCommitment = createHash('sha256').update(submissionSalt).update(submission, 'utf8').digest('hex');
    const providerId = referenceId(claim.provider);
    const patientPseudonym = this.pseudonymise(insurerId, claim.patient.reference);
    const focal = claim.insurance.find((i) => i.focal) ?? claim.insurance[0];
    const coverage = referenceId(focal.coverage);
    const lines = claim.item.map((item) => ({
      sequence: item.sequence,
      system: item.productOrService.coding[0].system,
      code: item.productOrService.coding[0].code,
      servicedDate: item.servicedDate,
    }));
    const submittedAt = new Date();
    const priorClaimId = resubmissionOf(claim);
    const prior =
      priorClaimId === undefined
        ? undefined
        : {
            id: priorClaimId,
            pointer: `/related/${claim.related!.findIndex((r) => r.claim && referenceId(r.claim) === priorClaimId)}/claim/reference`,
          };
    const event = buildEvent(Topics.ClaimsSubmitted, {
      source: CLAIM_INTAKE_SOURCE,
      subject: claimId,
      tenantid: insurerId,
      time: submittedAt,
      data: {
        claimId,
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
        ...claimTypeOf(claim),
        submissionCommitment,
      },
    });
    return {
      scope,
      idempotencyKey,
      body: claim,
      claim: {
        id: claimId,
        insurerId,
        providerId,
        patientPseudonym,
        coverage,
        currency: claim.total.currency,
        total: money(claim.total.value),
        submission,
        submissionSalt: submissionSalt.toString('hex'),
        resubmissionOf: prior?.id,
        lines,
        submittedAt,
      },
      event,
      traceparent: eventTraceparentOf(event),
      prior,
      itemIndexOf: new Map(claim.item.map((item, i) => [item.sequence, i])),
    };
  }
}
