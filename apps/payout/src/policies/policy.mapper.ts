import Decimal from 'decimal.js';
import { ContractDefinition } from '../engine/contract.definition';
import { AccumulatorRow, PolicyRow } from './policy.repository';

export interface PlanYearAccumulatorDto {
  planYearStart: string;
  deductibleMet: string;
  deductibleRemaining: string | null;
  benefitPaid: string;
  benefitRemaining: string | null;
}

export interface PolicyResponseDto {
  id: string;
  coverageId: string;
  contractId: string;
  memberPseudonym: string | null;
  period: { start: string; end: string };
  enrolledAt: string;
  currency: string | null;
  accumulators: PlanYearAccumulatorDto[];
}

const remaining = (total: string | undefined, used: string) =>
  total === undefined ? null : Decimal.max(0, new Decimal(total).minus(used)).toFixed(2);

export function toPolicyDto(
  policy: PolicyRow,
  contract: ContractDefinition,
  accumulators: AccumulatorRow[],
): PolicyResponseDto {
  const p = contract.parameters;
  return {
    id: policy.id,
    coverageId: policy.coverageId,
    contractId: policy.contractId,
    memberPseudonym: policy.memberPseudonym,
    period: { start: policy.start, end: policy.end },
    enrolledAt: new Date(policy.enrolledAt).toISOString(),
    currency: p.currency ?? null,
    accumulators: accumulators.map((a) => ({
      planYearStart: a.planYear,
      deductibleMet: a.deductibleMet,
      deductibleRemaining: remaining(p.deductible, a.deductibleMet),
      benefitPaid: a.benefitPaid,
      benefitRemaining: remaining(p.annualLimit, a.benefitPaid),
    })),
  };
}
