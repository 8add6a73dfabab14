import { DomainError } from './domain-error';
import { findInJson } from './json-pointer';

/**
 * Text Postgres cannot store, refused where every service parses a JSON body: text and jsonb hold no U+0000, and
 * jsonb refuses a lone UTF-16 surrogate. Let one through and the query fails as a 500; here it is a 400 naming it.
 *
 * JSON text carries either only as a `\u` escape (a raw NUL byte is not JSON, and UTF-8 has no form for a surrogate),
 * so a body without such an escape is clean and costs one search of its bytes. An escape is not yet a bad string
 * (`"\\u0000"` is the six characters `\u0000`, and `\ud83d\ude00` is one emoji), so only then is the parsed value read.
 */

/** A `\u` escape of U+0000 or of either half of a surrogate pair. */
const SUSPECT_ESCAPE = /\\u(?:0000|d[89a-f][0-9a-f]{2})/i;
/** U+0000, or a surrogate that is not half of a pair (with the u flag a pair is one code point, not Cs). */
const UNSTORABLE = /[\0\p{Cs}]/u;

/** The problem for the first string (key or value) of a parsed JSON body that Postgres cannot store, if any. */
export function unstorableTextError(raw: Buffer | string, value: unknown): DomainError | undefined {
  if (!mayHoldUnstorableText(raw)) return undefined;
  // A bad key is named by the pointer to its member, as is a bad value.
  const pointer = findInJson(
    value,
    (member, key) =>
      (key !== undefined && UNSTORABLE.test(key)) || (typeof member === 'string' && UNSTORABLE.test(member)),
  );
  if (pointer === undefined) return undefined;
  return new DomainError('REQUEST.UNSTORABLE_TEXT', 'invalid', 'The request is not valid', [
    { pointer, detail: 'text must not contain U+0000 or an unpaired UTF-16 surrogate' },
  ]);
}

function mayHoldUnstorableText(raw: Buffer | string): boolean {
  // Most bodies have no `\u` at all: a byte search skips copying them into a string for the regex.
  if (raw.indexOf('\\u') === -1) return false;
  return SUSPECT_ESCAPE.test(typeof raw === 'string' ? raw : raw.toString('latin1'));
}
