import { describe, expect, it } from 'vitest';

import type { QuotaWindow } from '../api/types';
import { formatWindow, remainingPercent, summarizeCapacity, windowLabel } from './quota';

const window = (over: Partial<QuotaWindow>): QuotaWindow => ({
  account_id: 'a',
  limit_id: 'codex',
  limit_name: null,
  window_kind: 'primary',
  window_minutes: 300,
  used_percent: 0,
  reset_at: null,
  source: 'headers',
  observed_at: '2026-12-05T10:00:00Z',
  ...over,
});

describe('quota windows', () => {
  it('names window lengths', () => {
    expect(formatWindow(300)).toBe('5h');
    expect(formatWindow(10080)).toBe('7d');
    expect(formatWindow(45)).toBe('45m');
    expect(windowLabel(window({}))).toBe('5h');
    expect(windowLabel(window({ limit_id: 'codex_other', limit_name: 'GPT-5.5 Spark', window_minutes: 10080 }))).toBe('GPT-5.5 Spark 7d');
  });

  it('clamps what is left', () => {
    expect(remainingPercent({ used_percent: 23 })).toBe(77);
    expect(remainingPercent({ used_percent: 130 })).toBe(0);
    expect(remainingPercent({ used_percent: -5 })).toBe(100);
  });

  it('summarizes a pool per window: mean left, exhausted accounts and their soonest reset', () => {
    const windows = [
      window({ account_id: 'a', used_percent: 100, reset_at: '2026-12-05T12:00:00Z' }),
      window({ account_id: 'b', used_percent: 40, reset_at: '2026-12-05T11:00:00Z' }),
      window({ account_id: 'a', window_kind: 'secondary', window_minutes: 10080, used_percent: 50, reset_at: '2026-12-09T00:00:00Z' }),
      window({ account_id: 'elsewhere', used_percent: 0 }),
    ];
    const [fiveHours, week] = summarizeCapacity(windows, new Set(['a', 'b']));
    expect(fiveHours).toEqual({ label: '5h', window_minutes: 300, accounts: 2, remaining: 30, exhausted: 1, next_reset: '2026-12-05T12:00:00Z' });
    expect(week).toEqual({ label: '7d', window_minutes: 10080, accounts: 1, remaining: 50, exhausted: 0, next_reset: '2026-12-09T00:00:00Z' });
    expect(summarizeCapacity(windows, new Set())).toEqual([]);
  });
});
