import { createHash } from 'node:crypto';
import { canonicalize } from 'json-canonicalize';
import { RuleProperties } from 'json-rules-engine';

/**
 * A contract: json-rules-engine rules plus the parameters they read. Rules see one claim line at a time as facts
 * (`system`, `code`, `quantity`, `net`, `excluded`) and emit `pay-line` (params: coinsurancePercent) or `deny-line`
 * (params: reason, a CARC-style code). A deny wins over a pay; a line no rule pays is denied as not covered.
 */
export interface ContractDefinition {
  insurerId: string;
  name: string;
  version: string;
  parameters: {
    coinsurancePercent: number;
    excludedCodes: string[];
  };
  rules: RuleProperties[];
}

/** The contract id: SHA-256 (hex) of its RFC 8785 canonical JSON. Same rules, same id, on any machine. */
export function contractIdOf(definition: ContractDefinition): string {
  return createHash('sha256').update(canonicalize(definition), 'utf8').digest('hex');
}

/** Applies to every insurer (`*`) until contract management lets insurers publish their own. */
export const DEMO_CONTRACT: ContractDefinition = {
  insurerId: '*',
  name: 'demo-outpatient',
  version: '1',
  parameters: { coinsurancePercent: 20, excludedCodes: ['http://www.ama-assn.org/go/cpt|15780'] },
  rules: [
    {
      name: 'excluded-service',
      priority: 10,
      conditions: { all: [{ fact: 'excluded', operator: 'equal', value: true }] },
      event: { type: 'deny-line', params: { reason: 'CO-204' } },
    },
    {
      name: 'covered-service',
      priority: 1,
      conditions: {
        all: [
          { fact: 'excluded', operator: 'equal', value: false },
          { fact: 'quantity', operator: 'greaterThan', value: 0 },
        ],
      },
      event: { type: 'pay-line', params: { coinsurancePercent: 20 } },
    },
  ],
};
