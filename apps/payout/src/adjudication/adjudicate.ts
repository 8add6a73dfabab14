import Decimal from 'decimal.js';
import { Engine } from 'json-rules-engine';
import { ClaimSubmittedV1 } from '@claimchain/contracts';
import { ContractDefinition } from '../contracts/contract.definition';

export interface AdjudicatedLine {
  sequence: number;
  system: string;
  code: string;
  submitted: string;
  benefit: string;
  reasons: string[];
}

export interface Adjudication {
  decision: 'approved' | 'partial' | 'denied';
  submitted: string;
  payable: string;
  lines: AdjudicatedLine[];
  /** What the engine said per line, kept so every decision can be explained. */
  engine: { sequence: number; events: { type: string; params?: Record<string, unknown> }[] }[];
}

const toCents = (d: Decimal) => d.toDecimalPlaces(2, Decimal.ROUND_HALF_EVEN);

/**
 * Pure and deterministic: the same contract and claim give the same result, byte for byte. Money is decimal,
 * rounded half-even to cents per line.
 */
export async function adjudicate(
  contract: ContractDefinition,
  items: ClaimSubmittedV1['items'],
): Promise<Adjudication> {
  const engine = new Engine(contract.rules, { allowUndefinedFacts: false });
  const excluded = new Set(contract.parameters.excludedCodes);
  const lines: AdjudicatedLine[] = [];
  const trace: Adjudication['engine'] = [];
  for (const item of items) {
    const { events } = await engine.run({
      system: item.system,
      code: item.code,
      quantity: item.quantity,
      net: Number(item.net),
      excluded: excluded.has(`${item.system}|${item.code}`),
    });
    trace.push({ sequence: item.sequence, events: events.map((e) => ({ type: e.type, params: e.params })) });
    const submitted = new Decimal(item.net);
    const deny = events.find((e) => e.type === 'deny-line');
    const pay = events.find((e) => e.type === 'pay-line');
    let benefit = new Decimal(0);
    const reasons: string[] = [];
    if (deny) reasons.push(String(deny.params?.reason ?? 'CO-96'));
    else if (!pay) reasons.push('CO-96');
    else {
      const coinsurance = new Decimal(Number(pay.params?.coinsurancePercent ?? 0));
      benefit = toCents(submitted.mul(new Decimal(100).minus(coinsurance)).div(100));
      if (coinsurance.gt(0)) reasons.push('PR-2');
    }
    lines.push({
      sequence: item.sequence,
      system: item.system,
      code: item.code,
      submitted: submitted.toFixed(2),
      benefit: benefit.toFixed(2),
      reasons,
    });
  }
  const payable = lines.reduce((sum, l) => sum.plus(l.benefit), new Decimal(0));
  const anyDenied = lines.some((l) => new Decimal(l.benefit).isZero());
  const decision = payable.isZero() ? 'denied' : anyDenied ? 'partial' : 'approved';
  const submitted = lines.reduce((sum, l) => sum.plus(l.submitted), new Decimal(0));
  return { decision, submitted: submitted.toFixed(2), payable: payable.toFixed(2), lines, engine: trace };
}
