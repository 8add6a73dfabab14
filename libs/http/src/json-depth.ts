import { DomainError } from './domain-error';
import { findInJson } from './json-pointer';

/**
 * How deep a JSON request body may nest. JSON.parse takes any depth, but what reads the value afterwards recurses:
 * zod's parsers, JSON.stringify, the RFC 8785 canonical JSON behind Idempotency-Key fingerprints and contract ids.
 * A contract whose conditions nest 1,500 deep overflowed the stack in zod, a 500. No request needs more than the
 * dozen levels of a FHIR claim; 64 leaves room for extensions within extensions.
 */
export const MAX_JSON_DEPTH = 64;

/** The problem for a parsed JSON body nesting deeper than MAX_JSON_DEPTH, naming its first too-deep element. */
export function tooDeepError(value: unknown): DomainError | undefined {
  const pointer = findInJson(value, (_value, _key, depth) => depth > MAX_JSON_DEPTH);
  if (pointer === undefined) return undefined;
  return new DomainError('REQUEST.TOO_DEEP', 'invalid', 'The request is not valid', [
    { pointer, detail: `JSON nests at most ${MAX_JSON_DEPTH} levels deep` },
  ]);
}
