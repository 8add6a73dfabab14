/** Percentiles of a sample, nearest-rank. `missing` counts values that never arrived (claims that never finished). */
export interface Percentiles {
  count: number;
  /** Values that should be there but are not: they count as +∞, so a p99 is finite only if fewer than 1% are. */
  missing?: number;
  mean: number | null;
  p50: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
}

export function percentiles(values: number[], missing = 0): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length + missing;
  const at = (q: number): number | null => {
    if (n === 0) return null;
    const rank = Math.max(1, Math.ceil(q * n));
    return rank <= sorted.length ? sorted[rank - 1] : Infinity;
  };
  return {
    count: sorted.length,
    ...(missing > 0 && { missing }),
    mean: sorted.length > 0 ? sorted.reduce((a, b) => a + b, 0) / sorted.length : null,
    p50: at(0.5),
    p99: at(0.99),
    p999: at(0.999),
    max: missing > 0 ? Infinity : sorted.length > 0 ? sorted[sorted.length - 1] : null,
  };
}

/** "123 ms", "4.5 s", "∞" (never), "–" (no sample). */
export function formatMs(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  if (!Number.isFinite(value)) return '∞';
  if (Math.abs(value) < 1000) return `${Math.round(value)} ms`;
  return `${(value / 1000).toFixed(value < 10_000 ? 2 : 1)} s`;
}
