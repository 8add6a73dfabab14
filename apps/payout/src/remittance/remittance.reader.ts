import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainError } from '@claimchain/http';
import { RemittanceRepository } from './remittance.repository';
import { RemittanceInput } from './fhir-adjudication.mapper';

/** Loads what a remittance resource is built from, for the insurer the claim belongs to and nobody else. */
@Injectable()
export class RemittanceReader {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: RemittanceRepository,
  ) {}

  /** Another insurer's claim is not found, exactly like an unknown one, so its existence is not revealed. */
  async find(claimId: string, insurerId: string): Promise<RemittanceInput> {
    const row = await this.repo.remittance(this.dataSource.manager, claimId);
    if (!row || row.insurerId !== insurerId) {
      throw new DomainError('REMITTANCE.NOT_FOUND', 'not-found', `No adjudicated claim ${claimId}`);
    }
    return {
      claimId,
      insurerId: row.insurerId,
      providerId: row.providerId,
      patientPseudonym: row.patientPseudonym,
      coverage: row.coverage,
      claimType: row.claimType,
      decidedAt: new Date(row.decidedAt).toISOString(),
      result: row.result,
      payment:
        row.paidAmount && row.paidAt
          ? { amount: row.paidAmount, date: new Date(row.paidAt).toISOString().slice(0, 10) }
          : null,
    };
  }
}
