import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AttestationsRepository } from './attestations.repository';

export interface AttestationPolicyDto {
  insurerId: string;
  signatureRequired: boolean;
  /** `insurer`: its own policy; `default`: CONFIRMATION_SIGNATURES_REQUIRED. */
  source: 'insurer' | 'default';
}

/** Injection token: whether an insurer that set no policy of its own needs signed confirmations. */
export const SIGNATURES_REQUIRED_BY_DEFAULT = Symbol('SIGNATURES_REQUIRED_BY_DEFAULT');

/**
 * Whether an insurer's claims need a signed confirmation: its own policy (set by ops), else the service's default
 * (CONFIRMATION_SIGNATURES_REQUIRED; required in production unless set).
 */
@Injectable()
export class SignaturePolicy {
  constructor(
    private readonly repo: AttestationsRepository,
    @Inject(SIGNATURES_REQUIRED_BY_DEFAULT) private readonly requiredByDefault: boolean,
  ) {}

  /** Insurer id → whether a signature is required, for each of these insurers, in one statement. */
  async requiredFor(em: EntityManager, insurerIds: readonly string[]): Promise<(insurerId: string) => boolean> {
    const own = await this.repo.policies(em, [...new Set(insurerIds)]);
    return (insurerId) => own.get(insurerId) ?? this.requiredByDefault;
  }

  async describe(em: EntityManager, insurerId: string): Promise<AttestationPolicyDto> {
    const own = (await this.repo.policies(em, [insurerId])).get(insurerId);
    return {
      insurerId,
      signatureRequired: own ?? this.requiredByDefault,
      source: own === undefined ? 'default' : 'insurer',
    };
  }
}
