import { z } from 'zod';
import {
  AnyElement,
  checkChoice,
  CodeableConcept,
  ContainedResource,
  element,
  Extension,
  FhirBoolean,
  FhirCode,
  FhirDate,
  FhirDateTime,
  FhirDecimal,
  FhirId,
  FhirPositiveInt,
  FhirString,
  FhirUri,
  fhirList,
  Identifier,
  Meta,
  Money,
  Narrative,
  Period,
  Reference,
  SimpleQuantity,
} from './fhir-r4-datatypes';

/**
 * The structure of an HL7 FHIR R4 (4.0.1) `Claim` resource: every element of Claim with its R4 cardinality, datatype
 * and required code bindings. Passing this means "valid FHIR R4"; whether claimchain can pay the claim automatically
 * is decided on top of it (`fhir-claim.request.ts`), which also checks that item sequences are unique. Unknown
 * elements pass, as FHIR's extensibility expects.
 */

export const CLAIM_STATUSES = ['active', 'cancelled', 'draft', 'entered-in-error'] as const;
export const CLAIM_USES = ['claim', 'preauthorization', 'predetermination'] as const;

const backbone = { ...element, modifierExtension: fhirList(Extension).optional() };

const SubDetail = z
  .object({
    ...backbone,
    sequence: FhirPositiveInt,
    revenue: CodeableConcept.optional(),
    category: CodeableConcept.optional(),
    productOrService: CodeableConcept,
    modifier: fhirList(CodeableConcept).optional(),
    programCode: fhirList(CodeableConcept).optional(),
    quantity: SimpleQuantity.optional(),
    unitPrice: Money.optional(),
    factor: FhirDecimal.optional(),
    net: Money.optional(),
    udi: fhirList(Reference).optional(),
  })
  .passthrough();

const Detail = SubDetail.extend({ subDetail: fhirList(SubDetail).optional() });

export const ClaimItem = z
  .object({
    ...backbone,
    sequence: FhirPositiveInt,
    careTeamSequence: fhirList(FhirPositiveInt).optional(),
    diagnosisSequence: fhirList(FhirPositiveInt).optional(),
    procedureSequence: fhirList(FhirPositiveInt).optional(),
    informationSequence: fhirList(FhirPositiveInt).optional(),
    revenue: CodeableConcept.optional(),
    category: CodeableConcept.optional(),
    productOrService: CodeableConcept,
    modifier: fhirList(CodeableConcept).optional(),
    programCode: fhirList(CodeableConcept).optional(),
    servicedDate: FhirDate.optional(),
    servicedPeriod: Period.optional(),
    locationCodeableConcept: CodeableConcept.optional(),
    locationAddress: AnyElement.optional(),
    locationReference: Reference.optional(),
    quantity: SimpleQuantity.optional(),
    unitPrice: Money.optional(),
    factor: FhirDecimal.optional(),
    net: Money.optional(),
    udi: fhirList(Reference).optional(),
    bodySite: CodeableConcept.optional(),
    subSite: fhirList(CodeableConcept).optional(),
    encounter: fhirList(Reference).optional(),
    detail: fhirList(Detail).optional(),
  })
  .passthrough()
  .superRefine((item, ctx) => {
    checkChoice(item, 'serviced', ['Date', 'Period'], false, ctx);
    checkChoice(item, 'location', ['CodeableConcept', 'Address', 'Reference'], false, ctx);
  });

export const ClaimInsurance = z
  .object({
    ...backbone,
    sequence: FhirPositiveInt,
    focal: FhirBoolean,
    identifier: Identifier.optional(),
    coverage: Reference,
    businessArrangement: FhirString.optional(),
    preAuthRef: fhirList(FhirString).optional(),
    claimResponse: Reference.optional(),
  })
  .passthrough();

export const ClaimRelated = z
  .object({
    ...backbone,
    claim: Reference.optional(),
    relationship: CodeableConcept.optional(),
    reference: Identifier.optional(),
  })
  .passthrough();

const Payee = z.object({ ...backbone, type: CodeableConcept, party: Reference.optional() }).passthrough();

const CareTeam = z
  .object({
    ...backbone,
    sequence: FhirPositiveInt,
    provider: Reference,
    responsible: FhirBoolean.optional(),
    role: CodeableConcept.optional(),
    qualification: CodeableConcept.optional(),
  })
  .passthrough();

const SupportingInfo = z
  .object({
    ...backbone,
    sequence: FhirPositiveInt,
    category: CodeableConcept,
    code: CodeableConcept.optional(),
    timingDate: FhirDate.optional(),
    timingPeriod: Period.optional(),
    valueBoolean: FhirBoolean.optional(),
    valueString: FhirString.optional(),
    valueQuantity: AnyElement.optional(),
    valueAttachment: AnyElement.optional(),
    valueReference: Reference.optional(),
    reason: CodeableConcept.optional(),
  })
  .passthrough()
  .superRefine((info, ctx) => {
    checkChoice(info, 'timing', ['Date', 'Period'], false, ctx);
    checkChoice(info, 'value', ['Boolean', 'String', 'Quantity', 'Attachment', 'Reference'], false, ctx);
  });

const Diagnosis = z
  .object({
    ...backbone,
    sequence: FhirPositiveInt,
    diagnosisCodeableConcept: CodeableConcept.optional(),
    diagnosisReference: Reference.optional(),
    type: fhirList(CodeableConcept).optional(),
    onAdmission: CodeableConcept.optional(),
    packageCode: CodeableConcept.optional(),
  })
  .passthrough()
  .superRefine((diagnosis, ctx) => checkChoice(diagnosis, 'diagnosis', ['CodeableConcept', 'Reference'], true, ctx));

const Procedure = z
  .object({
    ...backbone,
    sequence: FhirPositiveInt,
    type: fhirList(CodeableConcept).optional(),
    date: FhirDateTime.optional(),
    procedureCodeableConcept: CodeableConcept.optional(),
    procedureReference: Reference.optional(),
    udi: fhirList(Reference).optional(),
  })
  .passthrough()
  .superRefine((procedure, ctx) => checkChoice(procedure, 'procedure', ['CodeableConcept', 'Reference'], true, ctx));

const Accident = z
  .object({
    ...backbone,
    date: FhirDate,
    type: CodeableConcept.optional(),
    locationAddress: AnyElement.optional(),
    locationReference: Reference.optional(),
  })
  .passthrough()
  .superRefine((accident, ctx) => checkChoice(accident, 'location', ['Address', 'Reference'], false, ctx));

export const FhirR4Claim = z
  .object({
    resourceType: z.literal('Claim'),
    id: FhirId.optional(),
    meta: Meta.optional(),
    implicitRules: FhirUri.optional(),
    language: FhirCode.optional(),
    text: Narrative.optional(),
    contained: fhirList(ContainedResource).optional(),
    extension: fhirList(Extension).optional(),
    modifierExtension: fhirList(Extension).optional(),
    identifier: fhirList(Identifier).optional(),
    status: z.enum(CLAIM_STATUSES),
    type: CodeableConcept,
    subType: CodeableConcept.optional(),
    use: z.enum(CLAIM_USES),
    patient: Reference,
    billablePeriod: Period.optional(),
    created: FhirDateTime,
    enterer: Reference.optional(),
    insurer: Reference.optional(),
    provider: Reference,
    priority: CodeableConcept,
    fundsReserve: CodeableConcept.optional(),
    related: fhirList(ClaimRelated).optional(),
    prescription: Reference.optional(),
    originalPrescription: Reference.optional(),
    payee: Payee.optional(),
    referral: Reference.optional(),
    facility: Reference.optional(),
    careTeam: fhirList(CareTeam).optional(),
    supportingInfo: fhirList(SupportingInfo).optional(),
    diagnosis: fhirList(Diagnosis).optional(),
    procedure: fhirList(Procedure).optional(),
    insurance: fhirList(ClaimInsurance),
    accident: Accident.optional(),
    item: fhirList(ClaimItem).optional(),
    total: Money.optional(),
  })
  .passthrough();
export type FhirR4Claim = z.infer<typeof FhirR4Claim>;
