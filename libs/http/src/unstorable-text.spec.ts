import { DomainError } from './domain-error';
import { unstorableTextError } from './unstorable-text';

/** The error for a JSON body as the parser sees it: its raw bytes, and the value they parse to. */
function errorFor(json: string): DomainError | undefined {
  return unstorableTextError(Buffer.from(json, 'utf8'), JSON.parse(json));
}

const pointerFor = (json: string) => errorFor(json)?.errors.map((e) => e.pointer);

describe(unstorableTextError.name, () => {
  it('refuses a NUL in a nested value as a 400-kind problem naming it by pointer', () => {
    const error = errorFor('{"claim":{"items":[{"code":"ok"},{"code":"99\\u000013"}]}}');
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'REQUEST.UNSTORABLE_TEXT', kind: 'invalid' });
    expect(error!.errors).toEqual([
      { pointer: '/claim/items/1/code', detail: 'text must not contain U+0000 or an unpaired UTF-16 surrogate' },
    ]);
  });

  it('refuses a NUL in a key, naming its member', () => {
    expect(pointerFor('{"a":{"b\\u0000c":1}}')).toEqual(['/a/b\u0000c']);
  });

  it('refuses a NUL in a top-level string', () => {
    expect(pointerFor('"\\u0000"')).toEqual(['']);
  });

  it.each([
    ['a lone high surrogate', '"x\\uD800y"'],
    ['a lone high surrogate at the end', '"x\\ud83d"'],
    ['a lone low surrogate', '"x\\udc00"'],
    ['a pair in reverse order', '"\\ude00\\ud83d"'],
  ])('refuses %s', (_case, text) => {
    expect(pointerFor(`{"reason":${text}}`)).toEqual(['/reason']);
  });

  it('names the first offending string in document order', () => {
    expect(pointerFor('{"a":["fine",{"b":"\\u0000"}],"c\\u0000":"\\ud800"}')).toEqual(['/a/1/b']);
  });

  it('accepts a character outside the BMP, escaped as a surrogate pair or sent as UTF-8', () => {
    expect(errorFor('{"reason":"\\ud83d\\ude00 and \\uD83D\\uDE00"}')).toBeUndefined();
    expect(errorFor('{"reason":"😀"}')).toBeUndefined();
  });

  it('accepts an escaped backslash followed by the text u0000, which is no NUL', () => {
    expect(errorFor('{"reason":"\\\\u0000 and \\\\ud800"}')).toBeUndefined();
  });

  it('accepts other escapes and control characters Postgres stores', () => {
    expect(errorFor('{"reason":"tab\\tnew\\nline \\u0001 \\u00e9"}')).toBeUndefined();
  });

  it('escapes ~ and / in the pointer (RFC 6901)', () => {
    expect(pointerFor('{"a/b":{"c~d":["\\u0000"]}}')).toEqual(['/a~1b/c~0d/0']);
  });

  it('finds the string in a body nested deeper than the call stack goes', () => {
    const depth = 200_000;
    expect(pointerFor('['.repeat(depth) + '"\\u0000"' + ']'.repeat(depth))).toEqual(['/0'.repeat(depth)]);
  });

  it('does not read the parsed value when the raw body has no suspect escape', () => {
    const value = {
      get reason(): string {
        throw new Error('read');
      },
    };
    expect(unstorableTextError(Buffer.from('{"reason":"\\u00e9 fine"}'), value)).toBeUndefined();
  });
});
