/**
 * Expected outcomes a use case reports, with a stable code (`CLAIM.NOT_FOUND`). The kind decides the HTTP status,
 * and only the problem-details filter knows that mapping.
 */
export type DomainErrorKind =
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'invalid'
  | 'unprocessable'
  | 'too-many-requests'
  | 'unavailable';

export class DomainError extends Error {
  constructor(
    readonly code: string,
    readonly kind: DomainErrorKind,
    message: string,
    readonly errors: ProblemFieldError[] = [],
    /** For a refusal that will pass (a full queue): the client may retry after this many seconds (Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** One offending field, named by JSON pointer into the request body (RFC 6901). */
export interface ProblemFieldError {
  pointer: string;
  detail: string;
}
