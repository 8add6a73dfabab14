import { pooledRandomBytes } from './pooled-random';

describe(pooledRandomBytes.name, () => {
  it('hands out bytes of the size asked for, each draw different', () => {
    const draws = Array.from({ length: 1000 }, () => pooledRandomBytes(16));
    expect(draws.every((d) => d.length === 16)).toBe(true);
    expect(new Set(draws.map((d) => d.toString('hex'))).size).toBe(1000);
  });

  it('never changes bytes already handed out, across refills of the pool', () => {
    const first = pooledRandomBytes(16);
    const copy = Buffer.from(first);
    for (let i = 0; i < 1000; i += 1) pooledRandomBytes(16); // about four refills
    expect(first).toEqual(copy);
  });

  it('refuses more than the pool holds rather than repeating bytes', () => {
    expect(() => pooledRandomBytes(4097)).toThrow(RangeError);
  });
});
