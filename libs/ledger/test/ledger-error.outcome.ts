/** What a check did to its input, for specs: accepted it, or rejected it with a LedgerError's code. */
import { LedgerError, LedgerErrorCode } from '../src';

/** 'accepted', or the code of the LedgerError `fn` threw; any other error is rethrown (a crash is not a rejection). */
export function codeOf(fn: () => unknown): LedgerErrorCode | 'accepted' {
  try {
    fn();
    return 'accepted';
  } catch (err) {
    if (err instanceof LedgerError) return err.code;
    throw err;
  }
}
