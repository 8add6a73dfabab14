import { createHash } from 'node:crypto';
import { canonicalize } from 'json-canonicalize';
import { z } from 'zod';
import { CurrencyCode, IsoDate, MoneyAmount } from '@claimchain/wire';

/**
 * A contract: json-rules-engine rules plus the parameters adjudication applies. Rules see one claim line at a time
 * as facts (LINE_FACTS) and emit `pay-line` (optional coinsurancePercent), `deny-line` (a CARC-style reason) or
 * `pend-line` (a reason for the review queue). A deny wins over a pend, a pend over a pay; a line no rule pays is
 * denied as not covered (CO-96). The parameters (exclusions, network, time window, per-code limits, deductible,
 * coinsurance, annual limit, a signed attestation) are applied by adjudication itself, so a contract cannot forget
 * them in its rules.
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

/**
 * Bounds on what one contract may ask of adjudication (issue 14, finding 9): the rules engine runs every condition
 * of every rule for every claim line, so a contract's cost per line grows with its conditions and the values they
 * compare against. These bound it at publish (and simulate) time; adjudication itself also runs on a worker thread
 * with a per-claim timeout (ADR 17), so a contract within the bounds that is still slow pends only its own claims.
 * Changing a bound is a wire change of `POST /v1/contracts`: only ever loosen them within v1.
 */
export const CONTRACT_LIMITS = {
  /** Bytes of the contract's RFC 8785 canonical JSON (what its id hashes). */
  maxBytes: 256 * 1024,
  /** Rules in one contract. */
  maxRules: 50,
  /** all/any/not levels from a rule's `conditions` down to its deepest fact condition (that one included). */
  maxConditionDepth: 8,
  /** Conditions across all rules, every all/any/not and fact condition counted: the engine's work per line. */
  maxConditions: 250,
  /** Values the fact conditions compare against, across all rules (an array counts its elements). */
  maxConditionValues: 2000,
  /** Lines of one claim adjudicated at once: a simulation refuses more; a claim with more is pended for review. */
  maxClaimLines: 200,
} as const;

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
  .object({
    fact: z.enum(LINE_FACTS),
    operator: z.enum(OPERATORS),
    value: z.union([Scalar, z.array(Scalar)]),
  })
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
    /**
     * `true`: a line is paid only on a verification carrying the provider's signed attestation (ADR 15); without
     * one it is pended for review (`attestation-missing`, ADR 26). Absent or `false`: not asked.
     */
    attestationRequired: z.boolean().optional(),
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

/** How deep a condition nests (a fact condition is 1), how many conditions it holds, and how many values. */
export function conditionShape(condition: RuleCondition): { depth: number; conditions: number; values: number } {
  if ('fact' in condition) {
    return { depth: 1, conditions: 1, values: Array.isArray(condition.value) ? condition.value.length : 1 };
  }
  const children = 'not' in condition ? [condition.not] : 'all' in condition ? condition.all : condition.any;
  const shape = { depth: 0, conditions: 1, values: 0 };
  for (const child of children) {
    const c = conditionShape(child);
    shape.depth = Math.max(shape.depth, c.depth);
    shape.conditions += c.conditions;
    shape.values += c.values;
  }
  return { ...shape, depth: shape.depth + 1 };
}

const PublishContractBody = z
  .object({
    name: z.string().min(1).max(200),
    version: z.string().min(1).max(50),
    parameters: ContractParameters,
    rules: z
      .array(ContractRule)
      .min(1)
      .max(CONTRACT_LIMITS.maxRules)
      .superRefine((rules, ctx) => {
        const seen = new Set<string>();
        let conditions = 0;
        let values = 0;
        rules.forEach((r, i) => {
          if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: 'rule names are unique' });
          seen.add(r.name);
          const shape = conditionShape(r.conditions as RuleCondition);
          conditions += shape.conditions;
          values += shape.values;
          if (shape.depth > CONTRACT_LIMITS.maxConditionDepth) {
            ctx.addIssue({
              code: 'custom',
              path: [i, 'conditions'],
              message: `conditions nest ${shape.depth} levels deep; at most ${CONTRACT_LIMITS.maxConditionDepth}`,
            });
          }
        });
        if (conditions > CONTRACT_LIMITS.maxConditions) {
          ctx.addIssue({
            code: 'custom',
            path: [],
            message: `${conditions} conditions across the rules; at most ${CONTRACT_LIMITS.maxConditions}`,
          });
        }
        if (values > CONTRACT_LIMITS.maxConditionValues) {
          ctx.addIssue({
            code: 'custom',
            path: [],
            message: `${values} condition values across the rules; at most ${CONTRACT_LIMITS.maxConditionValues}`,
          });
        }
      }),
  })
  .strict();

/** The size bound, on the whole contract as its id will hash it (owner aside, a few bytes). */
function withinSize(request: z.infer<typeof PublishContractBody>, ctx: z.RefinementCtx): void {
  const bytes = Buffer.byteLength(canonicalize(request), 'utf8');
  if (bytes > CONTRACT_LIMITS.maxBytes) {
    ctx.addIssue({
      code: 'custom',
      path: [],
      message: `the contract is ${bytes} bytes as canonical JSON; at most ${CONTRACT_LIMITS.maxBytes}`,
    });
  }
}

/** What an insurer publishes: the contract without its owner, which comes from the caller's token. */
export const PublishContractRequest = PublishContractBody.superRefine(withinSize);
export type PublishContractRequest = z.infer<typeof PublishContractRequest>;

/**
 * The same request for the OpenAPI document: conditions nest (up to the bound above), which JSON Schema without
 * $refs cannot express, so the document describes them in words and the validator above stays exact.
 */
export const PublishContractRequestDoc = PublishContractBody.extend({
  rules: z
    .array(
      ContractRule.extend({
        conditions: z
          .record(z.unknown())
          .describe(
            `json-rules-engine conditions: {all|any: [...]} or {not: ...} of {fact, operator, value}; facts: ${LINE_FACTS.join(', ')}; operators: ${OPERATORS.join(', ')}; nested at most ${CONTRACT_LIMITS.maxConditionDepth} levels; across all rules at most ${CONTRACT_LIMITS.maxConditions} conditions (all/any/not and fact) and ${CONTRACT_LIMITS.maxConditionValues} values`,
          ),
      }),
    )
    .min(1)
    .max(CONTRACT_LIMITS.maxRules),
}).describe(`at most ${CONTRACT_LIMITS.maxBytes} bytes as RFC 8785 canonical JSON`);

export const ContractDefinition = PublishContractBody.extend({ insurerId: z.string().min(1) });
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
