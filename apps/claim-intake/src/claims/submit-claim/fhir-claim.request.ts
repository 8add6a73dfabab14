import { z } from 'zod';

/**
 * The part of an HL7 FHIR R4 `Claim` that automatic payment needs. Unknown elements are allowed (it is FHIR);
 * what is here must be present and well formed. Full R4 structure validation is the claim-intake issue's work.
 */
const Reference = z.object({ reference: z.string().min(1, 'a reference like "Patient/123"') });
const Decimal = z
  .number()
  .finite()
  .nonnegative()
  .refine((v) => Number.isInteger(Math.round(v * 100)) && Math.abs(v * 100 - Math.round(v * 100)) < 1e-6, {
    message: 'at most two decimal places',
  });
const Money = z.object({ value: Decimal, currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code') });
const FhirDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a FHIR date YYYY-MM-DD');

export const FhirClaimRequest = z
  .object({
    resourceType: z.literal('Claim'),
    status: z.literal('active'),
    use: z.literal('claim'),
    patient: Reference,
    created: z.string().min(1),
    insurer: Reference,
    provider: Reference,
    insurance: z
      .array(z.object({ sequence: z.number().int().positive(), focal: z.boolean(), coverage: Reference }))
      .min(1),
    item: z
      .array(
        z.object({
          sequence: z.number().int().positive(),
          productOrService: z.object({
            coding: z.array(z.object({ system: z.string().url(), code: z.string().min(1) })).min(1),
          }),
          servicedDate: FhirDate,
          quantity: z.object({ value: z.number().int().positive() }),
          unitPrice: Money,
          net: Money,
        }),
      )
      .min(1),
    total: Money,
    /** A resubmission names the claim it replaces: `{claim: {reference: "Claim/<id>"}, relationship: prior}`. */
    related: z
      .array(
        z.object({
          claim: Reference.optional(),
          relationship: z.object({ coding: z.array(z.object({ code: z.string() })).min(1) }).optional(),
        }),
      )
      .optional(),
  })
  .passthrough()
  .superRefine((claim, ctx) => {
    claim.item.forEach((item, i) => {
      for (const [field, money] of [
        ['unitPrice', item.unitPrice],
        ['net', item.net],
      ] as const) {
        if (money.currency !== claim.total.currency) {
          ctx.addIssue({ code: 'custom', path: ['item', i, field, 'currency'], message: 'must match total.currency' });
        }
      }
    });
    const sum = claim.item.reduce((acc, item) => acc + Math.round(item.net.value * 100), 0);
    if (sum !== Math.round(claim.total.value * 100)) {
      ctx.addIssue({ code: 'custom', path: ['total', 'value'], message: 'must equal the sum of item[].net.value' });
    }
  });
export type FhirClaimRequest = z.infer<typeof FhirClaimRequest>;

/** `Organization/acme` → `acme`: the id part of a literal reference. */
export function referenceId(ref: { reference: string }): string {
  const parts = ref.reference.split('/');
  return parts[parts.length - 1];
}

/** The id of the claim this one resubmits (`related[]` with relationship `prior`), if any. */
export function resubmissionOf(claim: FhirClaimRequest): string | undefined {
  const prior = claim.related?.find((r) => r.relationship?.coding.some((c) => c.code === 'prior') && r.claim);
  return prior?.claim ? referenceId(prior.claim) : undefined;
}
