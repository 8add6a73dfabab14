import { randomFillSync } from 'node:crypto';

/**
 * Cryptographically random bytes, drawn from a pool that is refilled from the CSPRNG 4 KiB at a time. Each call into
 * it has a fixed cost whatever its size (~2 µs here, ~35 µs on the VM claim intake is measured on, where getrandom is
 * slow), and claim intake needs 16 bytes per claim: a pool pays that cost once per 256 claims. Each byte is handed
 * out once, as a copy, so bytes already handed out never change when the pool is refilled.
 */
const pool = Buffer.alloc(4096);
let next = pool.length;

export function pooledRandomBytes(size: number): Buffer {
  if (size > pool.length) throw new RangeError(`at most ${pool.length} bytes at a time`);
  if (next + size > pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  const bytes = Buffer.from(pool.subarray(next, next + size));
  next += size;
  return bytes;
}
