/**
 * Exact decimal arithmetic for FHIR decimals that arrive as JSON numbers. A parsed number is read back through its
 * shortest round-trip text (`String(n)`), which is what the sender wrote unless they wrote more digits than a double
 * holds, and becomes an integer with a decimal scale: 135.57 → 13557n scale 2. Money then lives as integer minor
 * units in hundredths ("cents"), so no sum or product ever rounds.
 */
export interface ScaledDecimal {
  digits: bigint;
  scale: number;
}

/** The number's written digits and scale, trailing fraction zeros dropped (1.50 → 15n scale 1). */
export function scaledDecimal(value: number): ScaledDecimal {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(value));
  if (!m) throw new RangeError(`not a finite decimal: ${value}`);
  const fraction = m[3] ?? '';
  let digits = BigInt(m[1] + m[2] + fraction);
  let scale = fraction.length - Number(m[4] ?? 0);
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  while (scale > 0 && digits % 10n === 0n) {
    digits /= 10n;
    scale -= 1;
  }
  return { digits, scale };
}

/** Hundredths of the value, or undefined if it has more than `maxDecimals` (≤ 2) fraction digits. */
export function toCents(value: number, maxDecimals = 2): bigint | undefined {
  const { digits, scale } = scaledDecimal(value);
  if (scale > maxDecimals) return undefined;
  return digits * 10n ** BigInt(2 - scale);
}

/** The number a whole count of cents stands for; exact, since the double nearest to c/100 is what JSON gives too. */
export function fromCents(cents: bigint): number {
  return Number(cents) / 100;
}

/** `12345n` → `"123.45"`, for messages. */
export function formatCents(cents: bigint): string {
  const sign = cents < 0n ? '-' : '';
  const abs = cents < 0n ? -cents : cents;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

/**
 * The wire form of an amount validated by toCents ("120.50"). Exact for every amount up to MONEY_MAX_MINOR_UNITS
 * (at most 15 significant digits, which a double holds exactly), so it always says what validation read.
 */
export function formatAmount(value: number): string {
  return value.toFixed(2);
}
