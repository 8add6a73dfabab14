/**
 * Integer helpers for tree sizes and indices. Sizes may exceed 2^32, where JS bitwise operators silently truncate,
 * so everything here is plain arithmetic, exact up to Number.MAX_SAFE_INTEGER.
 */
import { LedgerError } from './ledger.errors';

export function checkSize(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new LedgerError('LEDGER.SIZE_INVALID', `${what} must be a non-negative safe integer, got ${value}`);
  }
}

export function checkIndex(index: number, size: number): void {
  checkSize(index, 'index');
  checkSize(size, 'tree size');
  if (index >= size) {
    throw new LedgerError('LEDGER.INDEX_OUT_OF_RANGE', `index ${index} is not below tree size ${size}`);
  }
}

export function checkSizeOrder(size1: number, size2: number): void {
  checkSize(size1, 'first tree size');
  checkSize(size2, 'second tree size');
  if (size1 > size2) {
    throw new LedgerError('LEDGER.SIZES_OUT_OF_ORDER', `first tree size ${size1} exceeds second tree size ${size2}`);
  }
}

/** The k of RFC 9162's MTH split: the largest power of two strictly below n (n > 1). */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export function isPowerOfTwo(n: number): boolean {
  return n > 0 && largestPowerOfTwoBelow(n + 1) === n;
}

export function isOdd(n: number): boolean {
  return n % 2 === 1;
}

/** n >> 1 without 32-bit truncation. */
export function half(n: number): number {
  return Math.floor(n / 2);
}
