import { Injectable } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { Topics } from '@claimchain/contracts';
import { DomainError, Principal } from '@claimchain/http';
import { OutboxWriter } from '@claimchain/messaging';
import { ClaimsRepository } from '../../persistence/claims.repository';
import { FhirClaimRequest, referenceId } from './fhir-claim.request';

export const CLAIM_INTAKE_SOURCE = 'claimchain/claim-intake';

function money(value: number): string {
  return value.toFixed(2);
}

/**
 * Accepts a validated FHIR claim: stores it and its `claims.submitted.v1` event in one transaction, so an
 * acknowledged claim is never lost and never announced without being stored.
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

  async submit(claim: FhirClaimRequest, caller: Principal): Promise<{ id: string; status: 'submitted' }> {
    const insurerId = referenceId(claim.insurer);
    if (insurerId !== caller.tenant) {
      throw new DomainError('CLAIM.INSURER_NOT_CALLER', 'unprocessable', 'The claim names another insurer', [
        { pointer: '/insurer/reference', detail: `must be Organization/${caller.tenant}, the calling insurer` },
      ]);
    }
    const id = uuidv7();
    const providerId = referenceId(claim.provider);
    const patientPseudonym = this.pseudonymise(insurerId, claim.patient.reference);
    const focal = claim.insurance.find((i) => i.focal) ?? claim.insurance[0];
    const submittedAt = new Date();
    await this.dataSource.transaction(async (em) => {
      await this.claims.insert(em, {
        id,
        insurerId,
        providerId,
        patientPseudonym,
        coverage: referenceId(focal.coverage),
        currency: claim.total.currency,
        total: money(claim.total.value),
        resource: claim,
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
          coverage: referenceId(focal.coverage),
          currency: claim.total.currency,
          total: money(claim.total.value),
          items: claim.item.map((item) => ({
            sequence: item.sequence,
            system: item.productOrService.coding[0].system,
            code: item.productOrService.coding[0].code,
            servicedDate: item.servicedDate,
            quantity: item.quantity.value,
            unitPrice: money(item.unitPrice.value),
            net: money(item.net.value),
          })),
          submittedAt: submittedAt.toISOString(),
        },
      });
      await this.claims.recordEvent(em, event);
    });
    return { id, status: 'submitted' };
  }
}
