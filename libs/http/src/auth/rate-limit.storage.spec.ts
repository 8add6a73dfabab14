import { ThrottlerStorageService } from '@nestjs/throttler';
import { RateLimitStorage } from './rate-limit.storage';

/** A small deterministic PRNG, so a failing sequence can be replayed. */
function prng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

describe(RateLimitStorage.name, () => {
  let now: number;
  let storage: RateLimitStorage;
  let reference: ThrottlerStorageService;

  beforeEach(() => {
    now = Date.UTC(2026, 10, 25, 12);
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    storage = new RateLimitStorage();
    reference = new ThrottlerStorageService();
  });

  afterEach(() => {
    storage.onApplicationShutdown();
    reference.onApplicationShutdown();
    jest.restoreAllMocks();
  });

  it.each([
    ['blocks for a while once over the limit', 1000],
    ['refuses only while over the limit (no block duration)', 0],
  ])('answers exactly as @nestjs/throttler’s storage: %s', async (_case, blockDuration) => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = prng(seed);
      for (let i = 0; i < 3000; i += 1) {
        // Bursts and pauses, three keys, and now and then the clock going back a little.
        now += random() < 0.02 ? -Math.floor(random() * 50) : Math.floor(random() ** 3 * 600);
        const key = `key-${Math.floor(random() * 3)}`;
        const args = [key, 1000, 4, blockDuration, 'default'] as const;
        expect({ seed, i, answer: await storage.increment(...args) }).toEqual({
          seed,
          i,
          answer: await reference.increment(...args),
        });
      }
    }
  });

  it('keeps constant time per request however many hits the window holds', async () => {
    const timeFor = async (perSecond: number) => {
      for (let i = 0; i < perSecond; i += 1) {
        now += 1000 / perSecond;
        await storage.increment(`key-${perSecond}`, 1000, 1e9, 1000, 'default');
      }
      const started = process.hrtime.bigint();
      for (let i = 0; i < 2000; i += 1) {
        now += 1000 / perSecond;
        await storage.increment(`key-${perSecond}`, 1000, 1e9, 1000, 'default');
      }
      return Number(process.hrtime.bigint() - started);
    };
    await timeFor(100); // warm-up
    // 100 times the hits in the window: a storage that copies the window per request takes ~100 times as long.
    expect(await timeFor(100_000)).toBeLessThan((await timeFor(1000)) * 10);
  });

  it('forgets keys once no window, block or hit of theirs is running', async () => {
    await storage.increment('idle', 1000, 4, 1000, 'default');
    now += 59_000;
    await storage.increment('busy', 1000, 4, 1000, 'default');
    storage['evictIdle'](now + 500);
    expect([...storage['records'].keys()]).toEqual(['busy']);
  });
});
