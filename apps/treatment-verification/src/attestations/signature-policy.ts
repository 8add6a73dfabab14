import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AttestationsRepository } from './attestations.repository';

export interface AttestationPolicyDto {
  insurerId: string;
  signatureRequired: boolean;
  /** Days either side of a claim line's serviced date that a performance may lie and still verify the line. */
  dateToleranceDays: number;
  /** `insurer`: its own policy; `default`: CONFIRMATION_SIGNATURES_REQUIRED and a tolerance of 0 days. */
  source: 'insurer' | 'default';
}

/** What an insurer asks of its providers' confirmations. */
export interface InsurerTerms {
  signatureRequired: boolean;
  dateToleranceDays: number;
}

/** Injection token: whether an insurer that set no policy of its own needs signed confirmations. */
export const SIGNATURES_REQUIRED_BY_DEFAULT = Symbol('SIGNATURES_REQUIRED_BY_DEFAULT');

/** Without a policy of its own, a performance must be on the line's serviced date exactly. */
export const DEFAULT_DATE_TOLERANCE_DAYS = 0;

/**
 * What an insurer's claims need of a confirmation: whether it must be signed, and how far a performed date may lie
 * from a line's serviced date. Its own policy (set by ops), else the service's defaults
 * (CONFIRMATION_SIGNATURES_REQUIRED, required in production unless set; 0 days).
 */
@Injectable()
export class SignaturePolicy {
  constructor(
    private readonly repo: AttestationsRepository,
    @Inject(SIGNATURES_REQUIRED_BY_DEFAULT) private readonly requiredByDefault: boolean,
  ) {}

  /** Insurer id → its terms, for each of these insurers, in one statement. */
  async termsFor(em: EntityManager, insurerIds: readonly string[]): Promise<(insurerId: string) => InsurerTerms> {
    const own = await this.repo.policies(em, [...new Set(insurerIds)]);
    return (insurerId) => {
      const row = own.get(insurerId);
      return row
        ? { signatureRequired: row.signature_required, dateToleranceDays: row.date_tolerance_days }
        : { signatureRequired: this.requiredByDefault, dateToleranceDays: DEFAULT_DATE_TOLERANCE_DAYS };
    };
  }

  async describe(em: EntityManager, insurerId: string): Promise<AttestationPolicyDto> {
    const own = (await this.repo.policies(em, [insurerId])).get(insurerId);
    const terms = (await this.termsFor(em, [insurerId]))(insurerId);
    return { insurerId, ...terms, source: own === undefined ? 'default' : 'insurer' };
  }
}
