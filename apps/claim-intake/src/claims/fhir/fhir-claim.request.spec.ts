import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CPT, fhirClaim } from '@claimchain/testing';
import { ClaimSubmittedV1 } from '@claimchain/wire';
import { FhirClaimRequest, referenceId, resubmissionOf } from './fhir-claim.request';
import { formatAmount, formatCents, toCents } from './exact-decimal';

const FIXTURES = join(__dirname, '../../../test-fixtures/fhir');

type Json = Record<string, unknown>;

/** A claim automation pays: two lines in EUR adding up to the total (the fixture the e2e specs submit too). */
function payableClaim(): Json {
  return fhirClaim('p-1', 'acme-health', 'city-clinic') as Json;
}

/** The payable claim with `change` applied to a deep copy; `undefined` values delete the element. */
function claimWith(change: (claim: Json & { item: Json[] }) => void): Json {
  const claim = structuredClone(payableClaim()) as Json & { item: Json[] };
  change(claim);
  return JSON.parse(JSON.stringify(claim)) as Json;
}

function errorsOf(body: unknown): { pointer: string; detail: string }[] {
  const result = FhirClaimRequest.safeParse(body);
  if (result.success) return [];
  return result.error.issues.map((issue) => ({
    pointer: issue.path.map((p) => `/${p}`).join(''),
    detail: issue.message,
  }));
}

const pointersOf = (body: unknown): string[] => errorsOf(body).map((e) => e.pointer);

function parse(body: unknown) {
  const result = FhirClaimRequest.safeParse(body);
  if (!result.success) throw new Error(JSON.stringify(result.error.issues));
  return result.data;
}

describe('FhirClaimRequest', () => {
  describe('the official FHIR R4 example claims', () => {
    // Why each is, or is not, paid automatically: the pointers the insurer gets back.
    const expected: Record<string, string[]> = {
      'claim-example.json': ['/total', '/item/0/productOrService/coding/0/system', '/item/0/quantity'],
      'claim-example-cms1500-medical.json': [
        '/patient/reference',
        '/insurer/reference',
        '/insurance/0/coverage/reference',
        '/item/0/quantity',
      ],
      'claim-example-institutional.json': ['/item/0/quantity'],
      'claim-example-institutional-rich.json': ['/provider/reference', '/item/0/quantity'],
      'claim-example-oral-average.json': ['/total', '/item/0/quantity', '/item/1/quantity', '/item/2/quantity'],
      'claim-example-oral-bridge.json': ['/item/0/quantity', '/item/1/quantity', '/item/2/quantity'],
      'claim-example-oral-contained.json': [
        '/patient/reference',
        '/insurer/reference',
        '/provider/reference',
        '/insurance/0/coverage/reference',
        '/total',
        '/item/0/productOrService/coding/0/system',
        '/item/0/quantity',
      ],
      'claim-example-oral-contained-identifier.json': [
        '/patient/reference',
        '/insurer/reference',
        '/provider/reference',
        '/total',
        '/item/0/productOrService/coding/0/system',
        '/item/0/quantity',
      ],
      'claim-example-oral-identifier.json': [
        '/patient/reference',
        '/insurer/reference',
        '/provider/reference',
        '/insurance/0/coverage/reference',
        '/total',
        '/item/0/productOrService/coding/0/system',
        '/item/0/quantity',
      ],
      'claim-example-oral-orthoplan.json': [
        '/use',
        '/total',
        '/item/0/quantity',
        '/item/1/quantity',
        '/item/2/quantity',
      ],
      'claim-example-pharmacy.json': ['/total', '/item/0/quantity'],
      'claim-example-pharmacy-compound.json': ['/item/0/unitPrice'],
      'claim-example-pharmacy-medication.json': [],
      'claim-example-professional.json': ['/total', '/item/0/quantity'],
      'claim-example-vision.json': ['/total', '/item/0/quantity'],
      'claim-example-vision-glasses.json': ['/total', '/item/0/quantity'],
      'claim-example-vision-glasses-3tier.json': ['/total', '/item/0/quantity'],
    };
    const example = (file: string): unknown => JSON.parse(readFileSync(join(FIXTURES, file), 'utf8'));

    it('covers every example in the fixtures folder', () => {
      const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
      expect(files.sort()).toEqual(Object.keys(expected).sort());
    });

    it.each(Object.entries(expected))('%s is accepted or rejected naming exactly %j', (file, pointers) => {
      expect(pointersOf(example(file))).toEqual(pointers);
    });

    it.each(Object.keys(expected))('%s is valid FHIR R4', (file) => {
      expect(errorsOf(example(file)).filter((e) => !e.detail.startsWith('not payable automatically: '))).toEqual([]);
    });

    it('derives the unit price of the pharmacy-medication example from its net and quantity', () => {
      const claim = parse(example('claim-example-pharmacy-medication.json'));
      expect(claim.item[0]).toMatchObject({
        quantity: { value: 90 },
        unitPrice: { value: 1, currency: 'USD' },
        net: { value: 90, currency: 'USD' },
      });
    });

    it('explains why the compound example has no exact unit price', () => {
      expect(errorsOf(example('claim-example-pharmacy-compound.json'))).toEqual([
        {
          pointer: '/item/0/unitPrice',
          detail:
            'not payable automatically: net ÷ (quantity × factor) = 155.00 ÷ 30 is not a whole amount of money; ' +
            'give unitPrice',
        },
      ]);
    });
  });

  describe('a payable claim', () => {
    it('is accepted', () => {
      expect(errorsOf(payableClaim())).toEqual([]);
    });

    it('keeps every element the service reads in the shape it reads', () => {
      const claim = parse(payableClaim());
      expect(claim).toMatchObject({
        patient: { reference: 'Patient/p-1' },
        insurer: { reference: 'Organization/acme-health' },
        provider: { reference: 'Organization/city-clinic' },
        insurance: [{ focal: true, coverage: { reference: 'Coverage/policy-e2e' } }],
        total: { value: 150.5, currency: 'EUR' },
      });
      expect(claim.item[1]).toMatchObject({
        sequence: 2,
        productOrService: { coding: [{ system: CPT, code: '85025' }] },
        servicedDate: '2026-11-20',
        quantity: { value: 2 },
        unitPrice: { value: 15.25, currency: 'EUR' },
        net: { value: 30.5, currency: 'EUR' },
      });
    });

    it('passes unknown elements through', () => {
      const body = claimWith((c) => {
        c.subType = { text: 'emergency' };
        c.item[0].bodySite = { text: 'left arm' };
        c.vendorElement = { anything: true };
      });
      expect(parse(body)).toMatchObject({
        subType: { text: 'emergency' },
        vendorElement: { anything: true },
        item: [{ bodySite: { text: 'left arm' } }, {}],
      });
    });
  });

  describe('R4 structure', () => {
    it.each(['resourceType', 'status', 'type', 'use', 'patient', 'created', 'provider', 'priority', 'insurance'])(
      'names a missing %s, which R4 requires',
      (element) => {
        expect(errorsOf(claimWith((c) => delete c[element]))).toEqual([
          { pointer: `/${element}`, detail: 'not valid FHIR R4: required by R4 (cardinality 1..1)' },
        ]);
      },
    );

    it.each(['sequence', 'productOrService'])('names a missing item %s, which R4 requires', (element) => {
      expect(pointersOf(claimWith((c) => delete c.item[1][element]))).toEqual([`/item/1/${element}`]);
    });

    it.each(['sequence', 'focal', 'coverage'])('names a missing insurance %s, which R4 requires', (element) => {
      expect(pointersOf(claimWith((c) => delete (c.insurance as Json[])[0][element]))).toEqual([
        `/insurance/0/${element}`,
      ]);
    });

    it('rejects a resource that is not a Claim', () => {
      expect(pointersOf(claimWith((c) => (c.resourceType = 'ClaimResponse')))).toEqual(['/resourceType']);
    });

    it('rejects a body that is not a JSON object', () => {
      expect(pointersOf('Claim')).toEqual(['']);
    });

    it('rejects a status outside the R4 value set as invalid FHIR', () => {
      const [error] = errorsOf(claimWith((c) => (c.status = 'approved')));
      expect(error.pointer).toBe('/status');
      expect(error.detail).toMatch(/^not valid FHIR R4: /);
    });

    it('rejects a use outside the R4 value set as invalid FHIR', () => {
      expect(errorsOf(claimWith((c) => (c.use = 'payment')))[0].detail).toMatch(/^not valid FHIR R4: /);
    });

    it('rejects an empty insurance array: R4 JSON has no empty arrays and insurance is 1..*', () => {
      expect(pointersOf(claimWith((c) => (c.insurance = [])))).toEqual(['/insurance']);
    });

    it.each([
      ['a month 13', '2026-13-01'],
      ['a day that does not exist', '2026-02-30'],
      ['a date in another order', '20-11-2026'],
      ['a time without a time zone', '2026-11-20T10:00:00'],
    ])('rejects a created dateTime with %s', (_case, created) => {
      expect(errorsOf(claimWith((c) => (c.created = created)))).toEqual([
        { pointer: '/created', detail: expect.stringMatching(/^not valid FHIR R4: /) as unknown as string },
      ]);
    });

    it('accepts a created dateTime with time and zone', () => {
      expect(errorsOf(claimWith((c) => (c.created = '2026-11-20T10:15:00+01:00')))).toEqual([]);
    });

    it('rejects a servicedDate that is not a FHIR date', () => {
      expect(pointersOf(claimWith((c) => (c.item[0].servicedDate = '2026/11/20')))).toEqual(['/item/0/servicedDate']);
    });

    it('rejects a code with leading whitespace', () => {
      const body = claimWith((c) => (c.item[0].productOrService = { coding: [{ system: CPT, code: ' 99213' }] }));
      expect(pointersOf(body)).toEqual(['/item/0/productOrService/coding/0/code']);
    });

    it('accepts a code with single inner spaces, as R4 allows', () => {
      const body = claimWith((c) => (c.item[0].productOrService = { coding: [{ system: CPT, code: 'UV coating' }] }));
      expect(errorsOf(body)).toEqual([]);
    });

    it('rejects a uri with whitespace', () => {
      const body = claimWith((c) => (c.item[0].productOrService = { coding: [{ system: 'http://x y', code: '1' }] }));
      expect(pointersOf(body)).toEqual(['/item/0/productOrService/coding/0/system']);
    });

    it('rejects a decimal sent as a string', () => {
      expect(pointersOf(claimWith((c) => (c.item[0].net = { value: '120.00', currency: 'EUR' })))).toEqual([
        '/item/0/net/value',
      ]);
    });

    it.each([0, 1.5, -1])('rejects an item sequence of %s, which is not a positiveInt', (sequence) => {
      expect(pointersOf(claimWith((c) => (c.item[0].sequence = sequence)))).toEqual(['/item/0/sequence']);
    });

    it('rejects a duplicate item sequence', () => {
      expect(errorsOf(claimWith((c) => (c.item[1].sequence = 1)))).toEqual([
        {
          pointer: '/item/1/sequence',
          detail: 'not valid FHIR R4: sequence 1 is already used by an earlier item; it is unique',
        },
      ]);
    });

    it('rejects a currency that is not ISO 4217', () => {
      const body = claimWith((c) => (c.total = { value: 150.5, currency: 'EURO' }));
      expect(errorsOf(body)).toContainEqual({
        pointer: '/total/currency',
        detail: 'not valid FHIR R4: an ISO 4217 currency code like "EUR"',
      });
    });

    it('rejects both servicedDate and servicedPeriod: serviced[x] takes one type', () => {
      const body = claimWith((c) => (c.item[0].servicedPeriod = { start: '2026-11-20', end: '2026-11-20' }));
      expect(pointersOf(body)).toEqual(['/item/0/servicedPeriod']);
    });

    it('rejects a period that ends before it starts', () => {
      const body = claimWith((c) => {
        delete c.item[0].servicedDate;
        c.item[0].servicedPeriod = { start: '2026-11-20', end: '2026-11-19' };
      });
      expect(errorsOf(body)[0]).toEqual({
        pointer: '/item/0/servicedPeriod/end',
        detail: 'not valid FHIR R4: a period ends on or after its start (per-1)',
      });
    });

    it('rejects a SimpleQuantity with a comparator', () => {
      expect(pointersOf(claimWith((c) => (c.item[0].quantity = { value: 1, comparator: '<' })))).toEqual([
        '/item/0/quantity/comparator',
      ]);
    });
  });

  describe('characters R4 does not allow, which Postgres cannot store either', () => {
    const NOT_IN_A_STRING =
      'not valid FHIR R4: a FHIR string has no control characters but tab, LF and CR, and no unpaired UTF-16 surrogates';
    const NOT_IN_A_CODE = 'not valid FHIR R4: a FHIR code has no control characters and no unpaired UTF-16 surrogates';
    const service = (coding: Json) => claimWith((c) => (c.item[0].productOrService = { coding: [coding] }));

    it('rejects a NUL in a code, naming the element', () => {
      expect(errorsOf(service({ system: CPT, code: '992\u000013' }))).toEqual([
        { pointer: '/item/0/productOrService/coding/0/code', detail: NOT_IN_A_CODE },
      ]);
    });

    it('rejects a NUL in a reference, naming it once', () => {
      expect(errorsOf(claimWith((c) => (c.patient = { reference: 'Patient/p-1\u0000' })))).toEqual([
        { pointer: '/patient/reference', detail: NOT_IN_A_STRING },
      ]);
    });

    it('rejects a NUL in a display string', () => {
      expect(errorsOf(service({ system: CPT, code: '99213', display: 'Office\u0000visit' }))).toEqual([
        { pointer: '/item/0/productOrService/coding/0/display', detail: NOT_IN_A_STRING },
      ]);
    });

    it('rejects a NUL in a uri', () => {
      expect(pointersOf(service({ system: `${CPT}\u0000`, code: '99213' }))).toEqual([
        '/item/0/productOrService/coding/0/system',
      ]);
    });

    it.each([
      ['a start of heading', '\u0001'],
      ['a vertical tab', '\u000b'],
      ['an escape', '\u001b'],
      ['a unit separator', '\u001f'],
    ])('rejects %s in a string', (_name, control) => {
      expect(errorsOf(service({ system: CPT, code: '99213', display: `Office${control}visit` }))).toEqual([
        { pointer: '/item/0/productOrService/coding/0/display', detail: NOT_IN_A_STRING },
      ]);
    });

    it('accepts tab, CR and LF in a string, as R4 does', () => {
      const display = 'Office visit\tlevel 3\r\nestablished patient';
      const claim = parse(service({ system: CPT, code: '99213', display }));
      expect(claim.item[0].productOrService.coding[0].display).toBe(display);
    });

    it('rejects a tab or newline in a code, where R4 allows only single spaces', () => {
      expect(pointersOf(service({ system: CPT, code: 'UV\tcoating' }))).toEqual([
        '/item/0/productOrService/coding/0/code',
      ]);
      expect(pointersOf(service({ system: CPT, code: 'UV\ncoating' }))).toEqual([
        '/item/0/productOrService/coding/0/code',
      ]);
    });

    it.each([
      ['a high surrogate', '\ud800'],
      ['a low surrogate', '\udc00'],
      ['a pair in the wrong order', '\ude00\ud83d'],
    ])('rejects %s without its other half, which has no UTF-8 form', (_case, half) => {
      expect(errorsOf(service({ system: CPT, code: '99213', display: `Office visit ${half}` }))).toEqual([
        { pointer: '/item/0/productOrService/coding/0/display', detail: NOT_IN_A_STRING },
      ]);
      expect(errorsOf(service({ system: CPT, code: `99213${half}` }))).toEqual([
        { pointer: '/item/0/productOrService/coding/0/code', detail: NOT_IN_A_CODE },
      ]);
    });

    it('accepts a character outside the BMP, whose surrogates come as a pair', () => {
      expect(errorsOf(service({ system: CPT, code: '99213', display: 'Office visit \u{1F9B7}' }))).toEqual([]);
    });

    it('rejects a NUL in the narrative', () => {
      const body = claimWith((c) => (c.text = { status: 'generated', div: '<div>\u0000</div>' }));
      expect(pointersOf(body)).toEqual(['/text/div']);
    });
  });

  describe('automatic payment', () => {
    it('pays only an active claim', () => {
      expect(errorsOf(claimWith((c) => (c.status = 'draft')))).toEqual([
        { pointer: '/status', detail: 'not payable automatically: only an active claim is paid; this one is draft' },
      ]);
    });

    it('pays no pre-authorization', () => {
      expect(errorsOf(claimWith((c) => (c.use = 'preauthorization')))).toEqual([
        {
          pointer: '/use',
          detail:
            'not payable automatically: only use "claim" is paid; "preauthorization" asks for a decision, not a payment',
        },
      ]);
    });

    it('needs the insurer, which R4 leaves optional', () => {
      expect(pointersOf(claimWith((c) => delete c.insurer))).toEqual(['/insurer']);
    });

    it('needs a literal reference, not only an identifier', () => {
      const body = claimWith((c) => (c.insurer = { identifier: { system: 'http://bin', value: '1' } }));
      expect(errorsOf(body)).toEqual([
        {
          pointer: '/insurer/reference',
          detail:
            'not payable automatically: a literal reference like "Organization/123" is required; an identifier or ' +
            'display alone cannot be resolved',
        },
      ]);
    });

    it('needs a patient that is not contained in the claim', () => {
      expect(pointersOf(claimWith((c) => (c.patient = { reference: '#patient-1' })))).toEqual(['/patient/reference']);
    });

    it('needs the patient reference to name a Patient', () => {
      expect(errorsOf(claimWith((c) => (c.patient = { reference: 'Practitioner/1' })))).toEqual([
        {
          pointer: '/patient/reference',
          detail: 'not payable automatically: must reference a Patient, not a Practitioner',
        },
      ]);
    });

    it('accepts an absolute URL as a literal reference', () => {
      const body = claimWith(
        (c) =>
          (c.insurance = [{ ...(c.insurance as Json[])[0], coverage: { reference: 'https://x.org/fhir/Coverage/7' } }]),
      );
      expect(errorsOf(body)).toEqual([]);
    });

    it('needs a reference short enough to store, naming it', () => {
      const provider = { reference: `https://x.org/fhir/Organization/${'a'.repeat(300)}` };
      expect(errorsOf(claimWith((c) => (c.provider = provider)))).toEqual([
        { pointer: '/provider/reference', detail: 'not payable automatically: a reference of at most 256 characters' },
      ]);
    });

    it('needs a service code and code system short enough to store and index, naming each', () => {
      const coding = { system: `urn:${'s'.repeat(200)}`, code: 'x'.repeat(8192) };
      expect(pointersOf(claimWith((c) => (c.item[0].productOrService = { coding: [coding] })))).toEqual([
        '/item/0/productOrService/coding/0/system',
        '/item/0/productOrService/coding/0/code',
      ]);
      const longest = { system: `urn:${'s'.repeat(196)}`, code: 'x'.repeat(100) };
      expect(errorsOf(claimWith((c) => (c.item[0].productOrService = { coding: [longest] })))).toEqual([]);
    });

    it('needs exactly one focal insurance', () => {
      const body = claimWith((c) => ((c.insurance as Json[])[0].focal = false));
      expect(pointersOf(body)).toEqual(['/insurance']);
    });

    it('needs at least one item', () => {
      expect(pointersOf(claimWith((c) => delete (c as Json).item))).toEqual(['/item']);
    });

    it('needs the system of the service coding', () => {
      const body = claimWith((c) => (c.item[0].productOrService = { coding: [{ code: '99213' }] }));
      expect(pointersOf(body)).toEqual(['/item/0/productOrService/coding/0/system']);
    });

    it('needs a service coding, not only text', () => {
      const body = claimWith((c) => (c.item[0].productOrService = { text: 'consultation' }));
      expect(pointersOf(body)).toEqual(['/item/0/productOrService/coding']);
    });

    it('needs a quantity', () => {
      expect(pointersOf(claimWith((c) => delete c.item[0].quantity))).toEqual(['/item/0/quantity']);
    });

    it('needs a whole quantity', () => {
      const body = claimWith((c) => {
        c.item[1].quantity = { value: 2.5 };
        c.item[1].net = { value: 38.13, currency: 'EUR' };
      });
      expect(errorsOf(body)).toEqual([
        {
          pointer: '/item/1/quantity/value',
          detail: 'not payable automatically: 2.5 is not a whole number of units (1 or more)',
        },
      ]);
    });

    it('needs a date of service', () => {
      expect(pointersOf(claimWith((c) => delete c.item[0].servicedDate))).toEqual(['/item/0/servicedDate']);
    });

    it('needs the day of service, not only the month', () => {
      const errors = errorsOf(claimWith((c) => (c.item[0].servicedDate = '2026-11')));
      expect(errors).toEqual([
        {
          pointer: '/item/0/servicedDate',
          detail: 'not payable automatically: 2026-11 is not a full date; automation needs the day (YYYY-MM-DD)',
        },
      ]);
    });

    it('needs a net or a unit price', () => {
      const body = claimWith((c) => {
        delete c.item[1].net;
        delete c.item[1].unitPrice;
      });
      expect(pointersOf(body)).toEqual(['/item/1/net']);
    });

    it('needs the total', () => {
      expect(pointersOf(claimWith((c) => delete c.total))).toEqual(['/total']);
    });

    it('rejects a modifier extension it cannot understand', () => {
      const body = claimWith((c) => (c.modifierExtension = [{ url: 'http://x.org/not-really', valueBoolean: true }]));
      expect(pointersOf(body)).toEqual(['/modifierExtension']);
    });
  });

  describe('money', () => {
    it('rejects an amount with three decimals', () => {
      const body = claimWith((c) => {
        c.item[0].unitPrice = { value: 120.005, currency: 'EUR' };
        c.item[0].net = { value: 120.005, currency: 'EUR' };
      });
      expect(errorsOf(body)).toEqual([
        {
          pointer: '/item/0/unitPrice/value',
          detail:
            "not payable automatically: 120.005 has more than 2 decimals; money is paid exactly, in EUR's minor units",
        },
        {
          pointer: '/item/0/net/value',
          detail:
            "not payable automatically: 120.005 has more than 2 decimals; money is paid exactly, in EUR's minor units",
        },
      ]);
    });

    it('accepts an amount at the cap, 9999999999.99, and announces it as validated', () => {
      const edge = 9999999999.99;
      const body = claimWith((c) => {
        c.item = [c.item[0]];
        c.item[0].unitPrice = { value: edge, currency: 'EUR' };
        c.item[0].net = { value: edge, currency: 'EUR' };
        c.total = { value: edge, currency: 'EUR' };
      });
      expect(errorsOf(body)).toEqual([]);
      // The event's text (formatAmount) and validation's exact reading (toCents) are the same amount.
      expect(formatAmount(edge)).toBe('9999999999.99');
      expect(formatCents(toCents(edge)!)).toBe('9999999999.99');
      expect(ClaimSubmittedV1.shape.total.safeParse(formatAmount(edge)).success).toBe(true);
    });

    it.each([10000000000.0, 90071992547409.91])('refuses %d, above the cap, naming the field', (value) => {
      const body = claimWith((c) => {
        c.item = [c.item[0]];
        c.item[0].unitPrice = { value, currency: 'EUR' };
        c.item[0].net = { value, currency: 'EUR' };
        c.total = { value, currency: 'EUR' };
      });
      const detail = 'not payable automatically: more than 9999999999.99, the largest amount paid';
      expect(errorsOf(body)).toEqual(
        ['/total/value', '/item/0/unitPrice/value', '/item/0/net/value'].map((pointer) => ({ pointer, detail })),
      );
    });

    it('rejects a binary floating-point artefact such as 0.1 + 0.2', () => {
      const body = claimWith((c) => (c.total = { value: 0.1 + 0.2, currency: 'EUR' }));
      expect(pointersOf(body)).toEqual(['/total/value']);
    });

    it('adds amounts exactly, so 0.10 + 0.20 is 0.30', () => {
      const body = claimWith((c) => {
        c.item[0].unitPrice = { value: 0.1, currency: 'EUR' };
        c.item[0].net = { value: 0.1, currency: 'EUR' };
        c.item[1].unitPrice = { value: 0.1, currency: 'EUR' };
        c.item[1].net = { value: 0.2, currency: 'EUR' };
        c.total = { value: 0.3, currency: 'EUR' };
      });
      expect(errorsOf(body)).toEqual([]);
    });

    it('rejects decimals in a currency without minor units', () => {
      const body = claimWith((c) => {
        c.item[0].unitPrice = { value: 120.5, currency: 'JPY' };
        c.item[0].net = { value: 120.5, currency: 'JPY' };
        c.item[1].unitPrice = { value: 15, currency: 'JPY' };
        c.item[1].net = { value: 30, currency: 'JPY' };
        c.total = { value: 150.5, currency: 'JPY' };
      });
      expect(errorsOf(body)[0]).toEqual({
        pointer: '/total/value',
        detail: 'not payable automatically: 150.5 has decimals, but JPY has no minor unit',
      });
    });

    it('rejects a negative amount', () => {
      const body = claimWith((c) => {
        c.item[0].unitPrice = { value: -120, currency: 'EUR' };
        c.item[0].net = { value: -120, currency: 'EUR' };
      });
      expect(pointersOf(body)).toEqual(['/item/0/unitPrice/value', '/item/0/net/value']);
    });

    it('names each amount whose currency differs from the total', () => {
      const body = claimWith((c) => {
        c.item[1].unitPrice = { value: 15.25, currency: 'USD' };
        c.item[1].net = { value: 30.5, currency: 'USD' };
      });
      expect(errorsOf(body)).toEqual([
        {
          pointer: '/item/1/unitPrice/currency',
          detail: 'not payable automatically: must be EUR, the currency of total',
        },
        { pointer: '/item/1/net/currency', detail: 'not payable automatically: must be EUR, the currency of total' },
      ]);
    });

    it('needs a currency on every amount', () => {
      expect(pointersOf(claimWith((c) => (c.item[0].net = { value: 120 })))).toEqual(['/item/0/net/currency']);
    });

    it('rejects a total that is not the sum of the nets', () => {
      expect(errorsOf(claimWith((c) => (c.total = { value: 150.51, currency: 'EUR' })))).toEqual([
        {
          pointer: '/total/value',
          detail: "not payable automatically: 150.51 is not the sum of the items' net amounts, 150.50",
        },
      ]);
    });

    it('rejects a net that is not unitPrice × quantity × factor', () => {
      expect(errorsOf(claimWith((c) => (c.item[1].net = { value: 15.25, currency: 'EUR' })))).toContainEqual({
        pointer: '/item/1/net/value',
        detail: 'not payable automatically: 15.25 is not unitPrice × quantity × factor = 30.50',
      });
    });

    it('derives the net from unit price, quantity and factor', () => {
      const body = claimWith((c) => {
        delete c.item[1].net;
        c.item[1].factor = 0.8;
        c.total = { value: 144.4, currency: 'EUR' };
      });
      expect(parse(body).item[1].net).toEqual({ value: 24.4, currency: 'EUR' });
    });

    it('derives the unit price from net, quantity and factor', () => {
      const body = claimWith((c) => {
        delete c.item[1].unitPrice;
        c.item[1].factor = 0.5;
      });
      expect(parse(body).item[1].unitPrice).toEqual({ value: 30.5, currency: 'EUR' });
    });

    it('checks the net given with a factor exactly', () => {
      const body = claimWith((c) => {
        c.item[1].factor = 0.07;
        c.item[1].net = { value: 2.14, currency: 'EUR' };
        c.total = { value: 122.14, currency: 'EUR' };
      });
      expect(errorsOf(body)).toEqual([
        {
          pointer: '/item/1/net/value',
          detail: 'not payable automatically: 2.14 is not unitPrice × quantity × factor = 2.135',
        },
      ]);
    });

    it('does not round a derived net that falls between cents', () => {
      const body = claimWith((c) => {
        delete c.item[1].net;
        c.item[1].factor = 0.07;
      });
      expect(errorsOf(body)).toEqual([
        {
          pointer: '/item/1/net',
          detail:
            'not payable automatically: unitPrice × quantity × factor = 2.135 is not a whole amount of money; give net',
        },
      ]);
    });
  });

  describe('servicedPeriod', () => {
    const withPeriod = (period: Json) =>
      claimWith((c) => {
        delete c.item[0].servicedDate;
        c.item[0].servicedPeriod = period;
      });

    it('gives the service date of a one-day period', () => {
      const claim = parse(withPeriod({ start: '2026-11-20', end: '2026-11-20' }));
      expect(claim.item[0].servicedDate).toBe('2026-11-20');
    });

    it('gives the date of a period within one day', () => {
      const claim = parse(withPeriod({ start: '2026-11-20T09:00:00+01:00', end: '2026-11-20T09:30:00+01:00' }));
      expect(claim.item[0].servicedDate).toBe('2026-11-20');
    });

    it('keeps the period as sent beside the date it gives', () => {
      const claim = parse(withPeriod({ start: '2026-11-20', end: '2026-11-20' }));
      expect(claim.item[0].servicedPeriod).toEqual({ start: '2026-11-20', end: '2026-11-20' });
    });

    it('rejects a period of several days, asking for one item per day', () => {
      expect(errorsOf(withPeriod({ start: '2026-11-19', end: '2026-11-20' }))).toEqual([
        {
          pointer: '/item/0/servicedPeriod',
          detail:
            'not payable automatically: 2026-11-19 to 2026-11-20 spans several days; each treatment is confirmed ' +
            'for one date, so claim one item per day',
        },
      ]);
    });

    it('rejects an open period', () => {
      expect(pointersOf(withPeriod({ start: '2026-11-20' }))).toEqual(['/item/0/servicedPeriod']);
    });

    it('rejects a period of a month', () => {
      expect(pointersOf(withPeriod({ start: '2026-11', end: '2026-11' }))).toEqual(['/item/0/servicedPeriod']);
    });
  });

  describe('errors', () => {
    it('names every offending element at once', () => {
      const body = claimWith((c) => {
        c.use = 'predetermination';
        delete c.insurer;
        c.item[0].productOrService = { coding: [{ code: '99213' }] };
        delete c.item[0].quantity;
        c.item[1].net = { value: 30.5, currency: 'USD' };
        delete c.total;
      });
      expect(pointersOf(body)).toEqual([
        '/use',
        '/insurer',
        '/total',
        '/item/0/productOrService/coding/0/system',
        '/item/0/quantity',
        '/item/1/net/currency',
      ]);
    });

    it('reports invalid FHIR and what keeps the claim from being paid together', () => {
      const body = claimWith((c) => {
        c.created = '2026-11-20T10:00';
        c.status = 'draft';
        c.item[1].quantity = { value: 'two' };
      });
      expect(errorsOf(body).map((e) => [e.pointer, e.detail.split(':')[0]])).toEqual([
        ['/created', 'not valid FHIR R4'],
        ['/item/1/quantity/value', 'not valid FHIR R4'],
        ['/status', 'not payable automatically'],
      ]);
    });

    it('does not name an element twice when it is both invalid and unpayable', () => {
      expect(pointersOf(claimWith((c) => (c.patient = { reference: 42 })))).toEqual(['/patient/reference']);
    });
  });

  describe(referenceId.name, () => {
    it('is the id part of a relative reference', () => {
      expect(referenceId({ reference: 'Organization/acme-health' })).toBe('acme-health');
    });

    it('leaves out the version of a versioned reference', () => {
      expect(referenceId({ reference: 'Organization/acme-health/_history/3' })).toBe('acme-health');
    });

    it('is the last segment of an absolute reference', () => {
      expect(referenceId({ reference: 'https://x.org/fhir/Coverage/7' })).toBe('7');
    });
  });

  describe(resubmissionOf.name, () => {
    it('is the claim a "prior" related entry names', () => {
      const related = [
        { claim: { reference: 'Claim/abc' }, relationship: { coding: [{ code: 'associated' }] } },
        { claim: { reference: 'Claim/def' }, relationship: { coding: [{ code: 'prior' }] } },
      ];
      expect(resubmissionOf(parse(claimWith((c) => (c.related = related))))).toBe('def');
    });

    it('is undefined for a claim that replaces none', () => {
      expect(resubmissionOf(parse(payableClaim()))).toBeUndefined();
    });
  });
});
