import { z } from 'zod';
import { ClaimInsurance, ClaimRelated, FhirR4Claim } from './fhir-r4-claim.schema';
import {
  LiteralReference,
  NOT_FHIR,
  objectAt,
  Path,
  PayabilityCheck,
  PayableItem,
  PayableMoney,
} from './payability.check';

export type { LiteralReference, PayableItem, PayableMoney };

/**
 * The body of `POST /v1/claims`: an HL7 FHIR R4 `Claim` that claimchain can pay without a human. Two questions, both
 * answered in one pass (the second by payability.check.ts) so the insurer sees every offending element at once, each named by JSON pointer:
 *
 * - is it valid FHIR R4 (`fhir-r4-claim.schema.ts`)? Errors read "not valid FHIR R4: …";
 * - can automation pay it? Errors read "not payable automatically: …". Automation needs an active claim (not a
 *   pre-authorization) naming patient, insurer, provider and the focal coverage by literal reference, and items each
 *   with a coded service (system + code), one service date, a whole quantity, and exact money in the total's ISO 4217
 *   currency that adds up to the total.
 *
 * The parsed claim is normalised for the service: each item has `servicedDate` (a one-day `servicedPeriod` gives its
 * date), `quantity.value`, and both `unitPrice` and `net` (the missing one derived exactly from
 * net = unitPrice × quantity × factor). Everything else is passed through as sent.
 */

export type FhirClaimRequest = Omit<
  FhirR4Claim,
  'status' | 'use' | 'patient' | 'insurer' | 'provider' | 'insurance' | 'item' | 'total'
> & {
  status: 'active';
  use: 'claim';
  patient: LiteralReference;
  insurer: LiteralReference;
  provider: LiteralReference;
  insurance: z.infer<typeof ClaimInsurance>[];
  item: PayableItem[];
  total: PayableMoney;
  /** A resubmission names the claim it replaces: `{claim: {reference: "Claim/<id>"}, relationship: prior}`. */
  related?: z.infer<typeof ClaimRelated>[];
};

function describe(issue: z.ZodIssue): string {
  const missing =
    (issue.code === 'invalid_type' && issue.received === 'undefined') ||
    (issue.code === 'invalid_literal' && issue.received === undefined);
  if (missing) return 'required by R4 (cardinality 1..1)';
  return issue.message;
}

const pointerOf = (path: Path): string => path.map((p) => `/${p}`).join('');

/** A payability issue at or below an element the structure check already rejected adds nothing. */
function coveredBy(structural: string[], path: Path): boolean {
  const pointer = pointerOf(path);
  return structural.some((s) => pointer === s || pointer.startsWith(`${s}/`));
}

export const FhirClaimRequest = z.unknown().transform((body, ctx): FhirClaimRequest => {
  const structure = FhirR4Claim.safeParse(body);
  const structural = structure.success ? [] : structure.error.issues;
  for (const issue of structural) {
    ctx.addIssue({ code: 'custom', path: issue.path, message: NOT_FHIR + describe(issue) });
  }
  const claim = objectAt(body);
  if (!claim) return z.NEVER;
  const check = new PayabilityCheck(claim);
  check.run();
  const reported = structural.map((issue) => pointerOf(issue.path));
  const payability = check.issues.filter((issue) => !coveredBy(reported, issue.path));
  for (const issue of payability) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  if (!structure.success || payability.length > 0) return z.NEVER;
  return {
    ...structure.data,
    item: check.items.map(({ netCents: _netCents, ...item }) => item),
  } as FhirClaimRequest;
});

/** `Organization/acme` → `acme`: the id part of a literal reference, without a `/_history/<version>` suffix. */
export function referenceId(ref: { reference?: string }): string {
  const parts = (ref.reference ?? '').replace(/\/_history\/[^/]*$/, '').split('/');
  return parts[parts.length - 1];
}

/** The id of the claim this one resubmits (`related[]` with relationship `prior`), if any. */
export function resubmissionOf(claim: FhirClaimRequest): string | undefined {
  const prior = claim.related?.find(
    (r) => r.relationship?.coding?.some((c) => c.code === 'prior') && r.claim?.reference,
  );
  return prior?.claim ? referenceId(prior.claim) : undefined;
}
