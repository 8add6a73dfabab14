/**
 * Every way a verification can end other than "verified", each with a stable code, and the one place that maps codes
 * to the exit status a script branches on: 1 the log or receipt failed verification, 2 the input could not be used,
 * 3 the log could not be asked (4, a bug in the verifier, is the CLI's, for anything that is not a VerifierError).
 */
export const VERIFIER_ERROR_CODES = [
  // 2: usage and input
  'VERIFIER.USAGE',
  'VERIFIER.KEY_INVALID',
  'VERIFIER.INPUT_UNREADABLE',
  'VERIFIER.INPUT_INVALID',
  'VERIFIER.OUTPUT_UNWRITABLE',
  // 3: the log did not answer
  'VERIFIER.LOG_UNAVAILABLE',
  // 1: verification failed
  'VERIFIER.RESPONSE_INVALID',
  'VERIFIER.CHECKPOINT_INVALID',
  'VERIFIER.SIGNATURE_INVALID',
  'VERIFIER.TREE_SIZE_MISMATCH',
  'VERIFIER.SUBJECT_MISMATCH',
  'VERIFIER.INCLUSION_INVALID',
  'VERIFIER.ENTRY_INVALID',
  'VERIFIER.LEAF_HASH_MISMATCH',
  'VERIFIER.ROOT_MISMATCH',
  'VERIFIER.CONSISTENCY_INVALID',
  'VERIFIER.LOG_FORKED',
  'VERIFIER.ATTESTATION_NOT_COMMITTED',
  'VERIFIER.ATTESTATION_SIGNATURE_INVALID',
  'VERIFIER.ATTESTATION_MISMATCH',
] as const;

export type VerifierErrorCode = (typeof VERIFIER_ERROR_CODES)[number];

export const EXIT_VERIFIED = 0;
export const EXIT_FAILED = 1;
export const EXIT_INPUT = 2;
export const EXIT_UNREACHABLE = 3;
/** A bug in the verifier itself: it says nothing about the log, so it must not look like a failed verification. */
export const EXIT_INTERNAL = 4;
export type ExitCode =
  typeof EXIT_VERIFIED | typeof EXIT_FAILED | typeof EXIT_INPUT | typeof EXIT_UNREACHABLE | typeof EXIT_INTERNAL;

export class VerifierError extends Error {
  override readonly name = 'VerifierError';

  constructor(
    readonly code: VerifierErrorCode,
    message: string,
    /** The leaf index (audit) or receipt entry the failure is about, when there is one. */
    readonly at?: { readonly leafIndex?: number; readonly entry?: number },
  ) {
    super(message);
  }
}

export function exitCodeOf(code: VerifierErrorCode): ExitCode {
  switch (code) {
    case 'VERIFIER.USAGE':
    case 'VERIFIER.KEY_INVALID':
    case 'VERIFIER.INPUT_UNREADABLE':
    case 'VERIFIER.INPUT_INVALID':
    case 'VERIFIER.OUTPUT_UNWRITABLE':
      return EXIT_INPUT;
    case 'VERIFIER.LOG_UNAVAILABLE':
      return EXIT_UNREACHABLE;
    case 'VERIFIER.RESPONSE_INVALID':
    case 'VERIFIER.CHECKPOINT_INVALID':
    case 'VERIFIER.SIGNATURE_INVALID':
    case 'VERIFIER.TREE_SIZE_MISMATCH':
    case 'VERIFIER.SUBJECT_MISMATCH':
    case 'VERIFIER.INCLUSION_INVALID':
    case 'VERIFIER.ENTRY_INVALID':
    case 'VERIFIER.LEAF_HASH_MISMATCH':
    case 'VERIFIER.ATTESTATION_NOT_COMMITTED':
    case 'VERIFIER.ATTESTATION_SIGNATURE_INVALID':
    case 'VERIFIER.ATTESTATION_MISMATCH':
    case 'VERIFIER.ROOT_MISMATCH':
    case 'VERIFIER.CONSISTENCY_INVALID':
    case 'VERIFIER.LOG_FORKED':
      return EXIT_FAILED;
  }
}
