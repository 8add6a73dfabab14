import { DomainError } from './domain-error';
import { MAX_JSON_DEPTH, tooDeepError } from './json-depth';

/** `depth` levels of `{"not": …}` around a scalar: the scalar sits at that depth. */
function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i += 1) value = { not: value };
  return value;
}

describe(tooDeepError.name, () => {
  it(`accepts a body nesting exactly ${MAX_JSON_DEPTH} levels`, () => {
    expect(tooDeepError(nested(MAX_JSON_DEPTH))).toBeUndefined();
  });

  it('refuses one level more as a 400-kind problem naming the first element too deep', () => {
    const error = tooDeepError(nested(MAX_JSON_DEPTH + 1));
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'REQUEST.TOO_DEEP', kind: 'invalid' });
    expect(error!.errors).toEqual([
      { pointer: '/not'.repeat(MAX_JSON_DEPTH + 1), detail: `JSON nests at most ${MAX_JSON_DEPTH} levels deep` },
    ]);
  });

  it('walks a body far deeper than the call stack goes', () => {
    expect(tooDeepError({ rules: [{ conditions: nested(200_000) }] })?.errors[0].pointer).toMatch(
      /^\/rules\/0\/conditions\/not/,
    );
  });

  it('counts arrays as levels, as objects', () => {
    let value: unknown = [];
    for (let i = 0; i < MAX_JSON_DEPTH + 1; i += 1) value = [value];
    expect(tooDeepError(value)?.errors[0].pointer).toBe('/0'.repeat(MAX_JSON_DEPTH + 1));
  });
});
