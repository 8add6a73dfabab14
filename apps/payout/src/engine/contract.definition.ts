import { createHash } from 'node:crypto';
import { canonicalize } from 'json-canonicalize';
import { z } from 'zod';
import { CurrencyCode, IsoDate, MoneyAmount } from '@claimchain/contracts';

/**
 * A contract: json-rules-engine rules plus the parameters adjudication applies. Rules see one claim line at a time
 * as facts (LINE_FACTS) and emit `pay-line` (optional coinsurancePercent), `deny-line` (a CARC-style reason) or
 * `pend-line` (a reason for the review queue). A deny wins over a pend, a pend over a pay; a line no rule pays is
 * denied as not covered (CO-96). The parameters (exclusions, network, time window, per-code limits, deductible,
 * coinsurance, annual limit) are applied by adjudication itself, so a contract cannot forget them in its rules.
 *
 * Every object is strict (unknown keys are refused) and optional fields stay absent rather than defaulted, so the
 * id, the SHA-256 of the RFC 8785 canonical JSON, is exactly the hash of what the insurer published.
 */
export const LINE_FACTS = [
  'system',
  'code',
  'quantity',
  'unitPrice',
  'net',
  'servicedDate',
  'providerId',
  'inNetwork',
  'excluded',
] as const;

const OPERATORS = [
  'equal',
  'notEqual',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
] as const;

/** A percentage 0–100 with at most two decimals (12.5 is fine, 12.345 is not). */
const Percent = z
  .number()
  .min(0)
  .max(100)
  .refine((n) => /^\d+(\.\d{1,2})?$/.test(String(n)), 'at most two decimals');

/** A service code as `system|code`, e.g. `http://www.ama-assn.org/go/cpt|99213`. */
export const CodeKey = z.string().regex(/^[^|\s]+\|[^|\s]+$/, 'a code as "system|code"');

/** CARC-style: group code (CO, PR, OA, PI) and reason. */
const ReasonCode = z.string().regex(/^(CO|PR|OA|PI)-[A-Z0-9]{1,5}$/, 'a CARC-style code like "CO-204"');

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export type RuleCondition =
  | { all: RuleCondition[] }
  | { any: RuleCondition[] }
  | { not: RuleCondition }
  | { fact: (typeof LINE_FACTS)[number]; operator: (typeof OPERATORS)[number]; value: unknown };

const FactCondition = z
  .object({ fact: z.enum(LINE_FACTS), operator: z.enum(OPERATORS), value: z.union([Scalar, z.array(Scalar)]) })
  .strict();

const Condition: z.ZodType<RuleCondition> = z.lazy(() =>
  z.union([
    z.object({ all: z.array(Condition).min(1) }).strict(),
    z.object({ any: z.array(Condition).min(1) }).strict(),
    z.object({ not: Condition }).strict(),
    FactCondition,
  ]),
);

const TopLevelCondition = z.union([
  z.object({ all: z.array(Condition).min(1) }).strict(),
  z.object({ any: z.array(Condition).min(1) }).strict(),
  z.object({ not: Condition }).strict(),
]);

const RuleEvent = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('pay-line'),
      params: z.object({ coinsurancePercent: Percent.optional() }).strict().optional(),
    })
    .strict(),
  z.object({ type: z.literal('deny-line'), params: z.object({ reason: ReasonCode }).strict() }).strict(),
  z
    .object({ type: z.literal('pend-line'), params: z.object({ reason: z.string().min(1).max(200) }).strict() })
    .strict(),
]);

const ContractRule = z
  .object({
    name: z.string().min(1).max(100),
    priority: z.number().int().min(1).max(100).optional(),
    conditions: TopLevelCondition,
    event: RuleEvent,
  })
  .strict();

const OutOfNetwork = z.discriminatedUnion('action', [
  z.object({ action: z.literal('deny') }).strict(),
  z.object({ action: z.literal('coinsurance'), coinsurancePercent: Percent }).strict(),
]);

export const ContractParameters = z
  .object({
    /** The currency of every amount below; required as soon as there is one. */
    currency: CurrencyCode.optional(),
    coinsurancePercent: Percent,
    /** Per plan year, met by the member before the contract pays. */
    deductible: MoneyAmount.optional(),
    /** The most the contract pays per plan year. */
    annualLimit: MoneyAmount.optional(),
    /** Per claim line: above `maxAmount` the line is capped (CO-45) or pended for review. */
    perCodeLimits: z
      .array(z.object({ code: CodeKey, maxAmount: MoneyAmount, action: z.enum(['cap', 'pend']) }).strict())
      .optional(),
    excludedCodes: z.array(CodeKey),
    /** Providers in network; the others are denied (CO-242) or paid at another coinsurance. */
    network: z
      .object({ providers: z.array(z.string().min(1)).min(1), outOfNetwork: OutOfNetwork })
      .strict()
      .optional(),
    /** Services dated outside [validFrom, validTo] are not covered (CO-26 before, CO-27 after). */
    validFrom: IsoDate.optional(),
    validTo: IsoDate.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const money = p.deductible !== undefined || p.annualLimit !== undefined || (p.perCodeLimits?.length ?? 0) > 0;
    if (money && p.currency === undefined) {
      ctx.addIssue({ code: 'custom', path: ['currency'], message: 'required with deductible, limits' });
    }
    if (p.validFrom && p.validTo && p.validFrom > p.validTo) {
      ctx.addIssue({ code: 'custom', path: ['validTo'], message: 'must not be before validFrom' });
    }
  });

/** What an insurer publishes: the contract without its owner, which comes from the caller's token. */
export const PublishContractRequest = z
  .object({
    name: z.string().min(1).max(200),
    version: z.string().min(1).max(50),
    parameters: ContractParameters,
    rules: z
      .array(ContractRule)
      .min(1)
      .max(200)
      .superRefine((rules, ctx) => {
        const seen = new Set<string>();
        rules.forEach((r, i) => {
          if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: 'rule names are unique' });
          seen.add(r.name);
        });
      }),
  })
  .strict();
export type PublishContractRequest = z.infer<typeof PublishContractRequest>;

/**
 * The same request for the OpenAPI document: conditions nest without bound, which JSON Schema without $refs
 * cannot express, so the document describes them in words and the validator above stays exact.
 */
export const PublishContractRequestDoc = PublishContractRequest.extend({
  rules: z.array(
    ContractRule.extend({
      conditions: z
        .record(z.unknown())
        .describe(
          `json-rules-engine conditions: {all|any: [...]} or {not: ...} of {fact, operator, value}; facts: ${LINE_FACTS.join(', ')}; operators: ${OPERATORS.join(', ')}`,
        ),
    }),
  ),
});

export const ContractDefinition = PublishContractRequest.extend({ insurerId: z.string().min(1) });
export type ContractDefinition = z.infer<typeof ContractDefinition>;

/** The contract id: SHA-256 (hex) of its RFC 8785 canonical JSON. Same rules, same id, on any machine. */
export function contractIdOf(definition: ContractDefinition): string {
  return createHash('sha256').update(canonicalize(definition), 'utf8').digest('hex');
}

/** Applies to every insurer (`*`) that has published no contract of its own. Its id must never change. */
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
