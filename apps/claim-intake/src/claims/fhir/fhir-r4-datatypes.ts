import { z } from 'zod';
import { isCalendarDate } from '@claimchain/wire';

/**
 * HL7 FHIR R4 (4.0.1) primitive types and the general-purpose datatypes a `Claim` uses, as zod schemas of their JSON
 * form. They check what R4 defines (formats, cardinalities, the datatypes' own invariants) and nothing about what
 * claimchain can pay: that is `fhir-claim.request.ts`'s job. Unknown elements pass, as FHIR's extensibility expects.
 */

// Regular expressions from the R4 specification's datatypes page, anchored.
const DATE = /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$/;
const DATE_TIME =
  /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$/;
const INSTANT =
  /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$/;
// R4's code regex has \s between words, which lets a tab or newline through; its definition says "no whitespace other
// than single spaces in the contents", which is what this checks.
const CODE = /^[^\s]+( [^\s]+)*$/;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const URI = /^\S*$/;
/**
 * What any text primitive may hold. R4 strings "SHOULD not contain" characters below U+0020 but tab, LF and CR, and
 * FHIR's XML form cannot carry them at all; they are Unicode, so a UTF-16 surrogate only comes in a pair (a lone half
 * is no character and has no UTF-8 form). Postgres stores neither U+0000 nor a lone surrogate: let one through and
 * the claim fails its whole group-commit batch, not only its own request. Other whitespace is each type's own rule.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point: R4 forbids them
const TEXT = /^[^\x00-\x08\x0B\x0C\x0E-\x1F\p{Cs}]*$/u;

/** A full date (`YYYY-MM-DD`, possibly the start of a dateTime) that does not exist in the calendar, e.g. 02-30. */
function impossibleDay(value: string): boolean {
  // A month out of range is the format's error, reported once by the regex.
  const m = /^(\d{4})-(0[1-9]|1[0-2])-(\d{2})/.exec(value);
  return m !== null && !isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** A string of TEXT; `allowing` names the control characters the type takes, for the message. */
function text(type: string, allowing?: string) {
  const controls = allowing ? `no control characters but ${allowing},` : 'no control characters';
  return z.string().regex(TEXT, `a FHIR ${type} has ${controls} and no unpaired UTF-16 surrogates`);
}

export const FhirString = text('string', 'tab, LF and CR').regex(/\S/, 'a FHIR string has non-whitespace content');
export const FhirCode = text('code').regex(CODE, 'a FHIR code: words separated by single spaces, no other whitespace');
export const FhirId = z.string().regex(ID, 'a FHIR id: 1-64 of A-Z a-z 0-9 - .');
export const FhirUri = text('uri').min(1, 'a FHIR uri is not empty').regex(URI, 'a FHIR uri has no whitespace');
export const FhirDate = z
  .string()
  .regex(DATE, 'a FHIR date: YYYY, YYYY-MM or YYYY-MM-DD')
  .refine((v) => !impossibleDay(v), 'a day that exists in the calendar');
export const FhirDateTime = z
  .string()
  .regex(DATE_TIME, 'a FHIR dateTime: YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss+zz:zz')
  .refine((v) => !impossibleDay(v), 'a day that exists in the calendar');
export const FhirInstant = z.string().regex(INSTANT, 'a FHIR instant: YYYY-MM-DDThh:mm:ss(.sss)+zz:zz');
/** JSON numbers only: R4 forbids decimals as strings. Exactness is checked where money is, on the parsed number. */
export const FhirDecimal = z.number().finite();
export const FhirPositiveInt = z.number().int('a FHIR positiveInt is a whole number').min(1).max(2147483647);
export const FhirUnsignedInt = z.number().int('a FHIR unsignedInt is a whole number').min(0).max(2147483647);
export const FhirBoolean = z.boolean();

/** R4 JSON never has empty arrays. */
export function fhirList<T extends z.ZodTypeAny>(item: T) {
  return z.array(item).min(1, 'FHIR JSON has no empty arrays: leave the element out');
}

export const Extension = z.object({ url: FhirUri }).passthrough();
/** What every element may carry besides its own children. */
export const element = { id: FhirString.optional(), extension: fhirList(Extension).optional() };

export const Coding = z
  .object({
    ...element,
    system: FhirUri.optional(),
    version: FhirString.optional(),
    code: FhirCode.optional(),
    display: FhirString.optional(),
    userSelected: FhirBoolean.optional(),
  })
  .passthrough();
export type Coding = z.infer<typeof Coding>;

export const CodeableConcept = z
  .object({ ...element, coding: fhirList(Coding).optional(), text: FhirString.optional() })
  .passthrough();

export const Period = z
  .object({ ...element, start: FhirDateTime.optional(), end: FhirDateTime.optional() })
  .passthrough()
  .superRefine((period, ctx) => {
    // per-1; compared as written when both are full dates, the common case in claims.
    const [start, end] = [period.start?.slice(0, 10), period.end?.slice(0, 10)];
    if (start?.length === 10 && end?.length === 10 && start > end) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: 'a period ends on or after its start (per-1)' });
    }
  });

const IdentifierShape = {
  ...element,
  use: z.enum(['usual', 'official', 'temp', 'secondary', 'old']).optional(),
  type: CodeableConcept.optional(),
  system: FhirUri.optional(),
  value: FhirString.optional(),
  period: Period.optional(),
};

export const Reference = z
  .object({
    ...element,
    reference: FhirString.optional(),
    type: FhirUri.optional(),
    // Identifier.assigner is itself a Reference; one level is checked, deeper nesting passes unchecked.
    identifier: z
      .object({ ...IdentifierShape, assigner: z.object({}).passthrough().optional() })
      .passthrough()
      .optional(),
    display: FhirString.optional(),
  })
  .passthrough();

export type Reference = z.infer<typeof Reference>;

export const Identifier = z.object({ ...IdentifierShape, assigner: Reference.optional() }).passthrough();

/** SimpleQuantity: a Quantity without a comparator (sqty-1). */
export const SimpleQuantity = z
  .object({
    ...element,
    value: FhirDecimal.optional(),
    unit: FhirString.optional(),
    system: FhirUri.optional(),
    code: FhirCode.optional(),
  })
  .passthrough()
  .superRefine((quantity, ctx) => {
    if ('comparator' in quantity) {
      ctx.addIssue({ code: 'custom', path: ['comparator'], message: 'a SimpleQuantity has no comparator (sqty-1)' });
    }
    if (quantity.code !== undefined && quantity.system === undefined) {
      ctx.addIssue({ code: 'custom', path: ['system'], message: 'a coded quantity names its system (qty-3)' });
    }
  });

/**
 * Active ISO 4217 codes plus those withdrawn recently enough to appear in R4's required `currencies` value set.
 * R4 binds Money.currency to ISO 4217 with strength required, so another code is not valid FHIR.
 */
const ISO_4217 = new Set(
  (
    'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BYR BZD ' +
    'CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL ' +
    'GGP GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS IMP INR IQD IRR ISK JEP JMD JOD JPY KES KGS KHR KMF ' +
    'KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRO MRU MUR MVR MWK MXN MXV MYR MZN ' +
    'NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE ' +
    'SLL SOS SRD SSP STD STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TVD TWD TZS UAH UGX USD USN UYI UYU UYW UZS ' +
    'VED VEF VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR ZMW ' +
    'ZWG ZWL'
  ).split(' '),
);

/** ISO 4217 minor units where they are not 2. */
const MINOR_UNITS: Record<string, number> = Object.fromEntries([
  ...'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF'.split(' ').map((c) => [c, 0]),
  ...'BHD IQD JOD KWD LYD OMR TND'.split(' ').map((c) => [c, 3]),
  ['CLF', 4],
  ['UYW', 4],
]);

export function minorUnits(currency: string): number {
  return MINOR_UNITS[currency] ?? 2;
}

export const Money = z
  .object({
    ...element,
    value: FhirDecimal.optional(),
    currency: FhirCode.refine((c) => ISO_4217.has(c), 'an ISO 4217 currency code like "EUR"').optional(),
  })
  .passthrough();

export const Narrative = z
  .object({
    ...element,
    status: z.enum(['generated', 'extensions', 'additional', 'empty']),
    div: text('xhtml', 'tab, LF and CR').regex(/^\s*<div[\s>]/, 'XHTML in a <div> element'),
  })
  .passthrough();

export const Meta = z
  .object({
    ...element,
    versionId: FhirId.optional(),
    lastUpdated: FhirInstant.optional(),
    source: FhirUri.optional(),
    profile: fhirList(FhirUri).optional(),
    security: fhirList(Coding).optional(),
    tag: fhirList(Coding).optional(),
  })
  .passthrough();

/** Address, Attachment and contained resources are carried, not read: their shape is checked only loosely. */
export const AnyElement = z.object({}).passthrough();
export const ContainedResource = z.object({ resourceType: z.string().regex(/^[A-Z][A-Za-z]+$/) }).passthrough();

/**
 * A choice element `name[x]` (R4 JSON: `diagnosisCodeableConcept`, `diagnosisReference`...): at most one variant
 * may be present, and with `required` one must be.
 */
export function checkChoice(
  value: Record<string, unknown>,
  name: string,
  types: readonly string[],
  required: boolean,
  ctx: z.RefinementCtx,
): void {
  const present = types.map((t) => name + t).filter((key) => value[key] !== undefined);
  if (present.length > 1) {
    ctx.addIssue({
      code: 'custom',
      path: [present[1]],
      message: `${name}[x] takes one type; ${present.join(' and ')} are both given`,
    });
  } else if (present.length === 0 && required) {
    ctx.addIssue({
      code: 'custom',
      path: [name + types[0]],
      message: `${name}[x] is required (1..1): one of ${types.map((t) => name + t).join(', ')}`,
    });
  }
}
