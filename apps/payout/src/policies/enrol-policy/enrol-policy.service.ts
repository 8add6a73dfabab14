import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { Topics } from '@claimchain/wire';
import { DomainError, oncePerKey, Principal, StoredResponse } from '@claimchain/http';
import { OutboxWriter } from '@claimchain/messaging';
import { PAYOUT_SOURCE } from '../../payout.source';
import { ContractRepository } from '../../contracts/contract.repository';
import { PolicyRepository } from '../policy.repository';
import { PolicyResponseDto, toPolicyDto } from '../policy.mapper';
import { EnrolPolicyRequest } from './enrol-policy.request';

/**
 * Enrols a member on one of the insurer's contracts (or the demo contract) for a period. Periods of one coverage
 * never overlap, so each claim has one policy; enrolments on a coverage are serialised to keep it so. The policy
 * and its `policies.enrolled.v1` (which the ledger records) commit together.
 */
@Injectable()
export class EnrolPolicyService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policies: PolicyRepository,
    private readonly contracts: ContractRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  async enrol(
    request: EnrolPolicyRequest,
    caller: Principal,
    idempotencyKey: string,
  ): Promise<StoredResponse<PolicyResponseDto>> {
    return this.dataSource.transaction((em) =>
      oncePerKey(em, `${caller.tenant}:enrol-policy`, idempotencyKey, request, async () => ({
        status: 201,
        body: await this.create(em, request, caller.tenant),
      })),
    );
  }

  private async create(em: EntityManager, request: EnrolPolicyRequest, insurerId: string): Promise<PolicyResponseDto> {
    const contract = await this.contracts.findContract(em, request.contractId, insurerId);
    if (!contract) {
      throw new DomainError('POLICY.CONTRACT_NOT_FOUND', 'unprocessable', 'The contract does not exist', [
        { pointer: '/contractId', detail: `no contract ${request.contractId} of this insurer` },
      ]);
    }
    const { coverageId } = request;
    const { start, end } = request.period;
    await this.policies.lockCoverage(em, insurerId, coverageId);
    const overlapping = await this.policies.overlappingPolicy(em, { insurerId, coverageId, start, end });
    if (overlapping) {
      throw new DomainError('POLICY.OVERLAP', 'conflict', 'The coverage already has a policy in this period', [
        { pointer: '/period', detail: `overlaps policy ${overlapping}` },
      ]);
    }
    const id = uuidv7();
    await this.policies.insertPolicy(em, {
      id,
      insurerId,
      coverageId,
      contractId: contract.id,
      memberPseudonym: request.memberPseudonym ?? null,
      start,
      end,
    });
    const policy = (await this.policies.findPolicy(em, id))!;
    const enrolledAt = new Date(policy.enrolledAt);
    await this.outbox.add(em, Topics.PoliciesEnrolled, {
      source: PAYOUT_SOURCE,
      subject: id,
      tenantid: insurerId,
      time: enrolledAt,
      data: {
        policyId: id,
        insurerId,
        coverageId,
        contractId: contract.id,
        memberPseudonym: policy.memberPseudonym,
        period: { start: policy.start, end: policy.end },
        enrolledAt: enrolledAt.toISOString(),
      },
    });
    return toPolicyDto(policy, contract.definition, []);
  }
}
