import { describe, expect, it } from 'vitest';

import type { UsageSums } from '../api/types';
import { cacheHitShare, hourBuckets, seriesByHour } from './usage';

const zero: UsageSums = { requests: 0, errors: 0, input_tokens: 0, cached_input_tokens: 0, output_tokens: 0, reasoning_tokens: 0, cost_micros: 0, unpriced_requests: 0 };

describe('usage series', () => {
  it('lists the hour starts of the window, ending with the current hour', () => {
    const buckets = hourBuckets(Date.parse('2026-12-05T10:42:00Z'), 3);
    expect(buckets.map((b) => new Date(b).toISOString())).toEqual([
      '2026-12-05T08:00:00.000Z',
      '2026-12-05T09:00:00.000Z',
      '2026-12-05T10:00:00.000Z',
    ]);
  });

  it('fills hours without rows with zeros and sums rows of the same hour', () => {
    const buckets = hourBuckets(Date.parse('2026-12-05T10:42:00Z'), 3);
    const rows = [
      { ...zero, bucket_start: '2026-12-05T10:00:00.000000Z', requests: 2 },
      { ...zero, bucket_start: '2026-12-05T08:00:00Z', requests: 5 },
      { ...zero, bucket_start: '2026-12-05T08:00:00Z', requests: 1 },
      { ...zero, bucket_start: '2026-12-04T08:00:00Z', requests: 99 },
    ];
    expect(seriesByHour(rows, buckets, (r) => r.requests)).toEqual([6, 0, 2]);
  });

  it('computes the prompt-cache hit share, null without input', () => {
    expect(cacheHitShare({ input_tokens: 200, cached_input_tokens: 50 })).toBe(0.25);
    expect(cacheHitShare({ input_tokens: 0, cached_input_tokens: 0 })).toBeNull();
  });
});
