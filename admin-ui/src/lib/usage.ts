// Turns the usage API's hourly sums into chart series over a fixed window, with empty hours as
// zeros so the x axis is continuous.
import type { UsageSums } from '../api/types';

const HOUR_MS = 3600_000;

/// The `hours` hour starts ending with the hour that contains `now` (ms since the epoch).
export function hourBuckets(now: number, hours: number): number[] {
  const current = Math.floor(now / HOUR_MS) * HOUR_MS;
  const buckets: number[] = [];
  for (let i = hours - 1; i >= 0; i--) buckets.push(current - i * HOUR_MS);
  return buckets;
}

/// Values of `pick` per bucket; hours the API did not list are 0.
export function seriesByHour<T extends UsageSums & { bucket_start: string }>(
  rows: T[],
  buckets: number[],
  pick: (row: T) => number,
): number[] {
  const byStart = new Map<number, number>();
  for (const row of rows) {
    const start = Math.floor(new Date(row.bucket_start).getTime() / HOUR_MS) * HOUR_MS;
    byStart.set(start, (byStart.get(start) ?? 0) + pick(row));
  }
  return buckets.map((bucket) => byStart.get(bucket) ?? 0);
}

/// Cached input ÷ input tokens, or null when there was no input.
export function cacheHitShare(sums: Pick<UsageSums, 'input_tokens' | 'cached_input_tokens'>): number | null {
  if (!sums.input_tokens) return null;
  return sums.cached_input_tokens / sums.input_tokens;
}
