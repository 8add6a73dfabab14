import { FhirCode, FhirString, FhirUri } from './fhir-r4-datatypes';

const hex = (c: string) => c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
/** U+0000 to U+001F. */
const C0 = Array.from({ length: 0x20 }, (_, code) => String.fromCharCode(code));
const TAB_LF_CR = ['\t', '\n', '\r'];
const LONE_SURROGATES = [
  ['a high surrogate', '\ud83d'],
  ['a low surrogate', '\ude00'],
  ['a pair in the wrong order', '\ude00\ud83d'],
];

describe('FhirString', () => {
  it.each(C0.filter((c) => !TAB_LF_CR.includes(c)).map((c) => [hex(c), c]))('rejects U+%s', (_code, c) => {
    expect(FhirString.safeParse(`a${c}b`).success).toBe(false);
  });

  it.each(TAB_LF_CR.map((c) => [hex(c), c]))('accepts U+%s, which R4 allows', (_code, c) => {
    expect(FhirString.safeParse(`a${c}b`).success).toBe(true);
  });

  it.each(LONE_SURROGATES)('rejects %s', (_case, half) => {
    expect(FhirString.safeParse(`a${half}b`).success).toBe(false);
  });

  it('accepts a character outside the BMP, whose surrogates come as a pair', () => {
    expect(FhirString.safeParse('tooth \u{1F9B7}').success).toBe(true);
  });

  it('says which characters it refused, in one issue', () => {
    expect(FhirString.safeParse('a\u0000b').error?.issues.map((i) => i.message)).toEqual([
      'a FHIR string has no control characters but tab, LF and CR, and no unpaired UTF-16 surrogates',
    ]);
  });
});

describe('FhirCode', () => {
  it.each(C0.map((c) => [hex(c), c]))('rejects U+%s between words', (_code, c) => {
    expect(FhirCode.safeParse(`UV${c}coating`).success).toBe(false);
  });

  it.each(LONE_SURROGATES)('rejects %s', (_case, half) => {
    expect(FhirCode.safeParse(`A${half}`).success).toBe(false);
  });

  it('accepts single spaces between words', () => {
    expect(FhirCode.safeParse('UV coating').success).toBe(true);
  });

  it('rejects two spaces between words', () => {
    expect(FhirCode.safeParse('UV  coating').success).toBe(false);
  });
});

describe('FhirUri', () => {
  it.each(C0.map((c) => [hex(c), c]))('rejects U+%s', (_code, c) => {
    expect(FhirUri.safeParse(`http://x.org/${c}`).success).toBe(false);
  });

  it.each(LONE_SURROGATES)('rejects %s', (_case, half) => {
    expect(FhirUri.safeParse(`http://x.org/${half}`).success).toBe(false);
  });

  it('accepts a URL with non-ASCII characters', () => {
    expect(FhirUri.safeParse('http://example.org/zähne/\u{1F9B7}').success).toBe(true);
  });
});
