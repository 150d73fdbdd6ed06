import { describe, expect, it } from 'vitest';

import {
  describeRouting,
  formatClient,
  formatCostMicros,
  formatCount,
  formatCountdown,
  formatDateTime,
  formatDuration,
  formatRelative,
  formatShare,
  formatSpan,
  formatTokens,
  humanize,
  shortId,
} from './format';

const NOW = Date.parse('2026-12-05T10:00:00Z');

describe('counts and money', () => {
  it('formats counts with grouping and a dash for missing values', () => {
    expect(formatCount(12345, 'en-US')).toBe('12,345');
    expect(formatCount(null)).toBe('–');
    expect(formatCount(Number.NaN)).toBe('–');
  });

  it('compacts token counts', () => {
    expect(formatTokens(950)).toBe('950');
    expect(formatTokens(1000)).toBe('1k');
    expect(formatTokens(12_345)).toBe('12.3k');
    expect(formatTokens(4_500_000)).toBe('4.5M');
    expect(formatTokens(undefined)).toBe('–');
  });

  it('shows micro-USD as dollars, keeping sub-cent amounts visible', () => {
    expect(formatCostMicros(1_234_567)).toBe('$1.23');
    expect(formatCostMicros(123)).toBe('$0.0001');
    expect(formatCostMicros(0)).toBe('$0.00');
    expect(formatCostMicros(null)).toBe('–');
  });

  it('computes shares and guards a zero denominator', () => {
    expect(formatShare(1, 4)).toBe('25%');
    expect(formatShare(1, 3)).toBe('33.3%');
    expect(formatShare(5, 0)).toBe('–');
  });
});

describe('durations and countdowns', () => {
  it('formats durations in ms, seconds, then spans', () => {
    expect(formatDuration(840)).toBe('840 ms');
    expect(formatDuration(2400)).toBe('2.4 s');
    expect(formatDuration(3 * 60_000 + 5000)).toBe('3m 5s');
    expect(formatDuration(null)).toBe('–');
  });

  it('keeps the two largest units of a span', () => {
    expect(formatSpan(45_000)).toBe('45s');
    expect(formatSpan(2 * 3600_000 + 5 * 60_000 + 7000)).toBe('2h 5m');
    expect(formatSpan(3 * 86400_000 + 4 * 3600_000)).toBe('3d 4h');
    expect(formatSpan(86400_000)).toBe('1d');
    expect(formatSpan(-5000)).toBe('0s');
  });

  it('counts down to a reset and says when it passed', () => {
    expect(formatCountdown('2026-12-05T12:05:00Z', NOW)).toBe('resets in 2h 5m');
    expect(formatCountdown('2026-12-05T09:59:59Z', NOW)).toBe('reset');
    expect(formatCountdown(null, NOW)).toBe('–');
    expect(formatCountdown('not a date', NOW)).toBe('–');
  });

  it('says how long ago or how soon in words', () => {
    expect(formatRelative('2026-12-05T09:55:00Z', NOW, 'en')).toBe('5 minutes ago');
    expect(formatRelative('2026-12-05T12:00:00Z', NOW, 'en')).toBe('in 2 hours');
    expect(formatRelative('2026-12-03T10:00:00Z', NOW, 'en')).toBe('2 days ago');
    expect(formatRelative(null, NOW)).toBe('–');
  });

  it('shows timestamps in the given time zone', () => {
    expect(formatDateTime('2026-12-05T09:26:15Z', 'en-US', 'UTC')).toBe('Dec 5, 2026, 09:26:15');
    expect(formatDateTime('2026-12-05T09:26:15Z', 'en-US', 'Asia/Tokyo')).toBe('Dec 5, 2026, 18:26:15');
    expect(formatDateTime(null)).toBe('–');
  });
});

describe('labels', () => {
  it('humanizes enum values and shortens ids', () => {
    expect(humanize('reauth_required')).toBe('Reauth required');
    expect(humanize(null)).toBe('–');
    expect(shortId('d8718f38-0224-4a7f-ae34-3b1d1438a53e')).toBe('d8718f38');
    expect(shortId(null)).toBe('–');
  });
});

describe('clients and routing', () => {
  it('shows a client key as family and version', () => {
    expect(formatClient('codex_cli_rs/0.171.0')).toBe('codex_cli_rs 0.171.0');
    expect(formatClient('unknown')).toBe('unknown');
    expect(formatClient(null)).toBe('not recorded');
  });

  it('describes what routing did with an account', () => {
    expect(describeRouting({ outcome: 'served', reason: null, attempt: 1 }, 1)).toBe('Served');
    expect(describeRouting({ outcome: 'skipped', reason: 'quota_exhausted', attempt: 1 }, 1)).toBe('Skipped: quota exhausted');
    expect(describeRouting({ outcome: 'failed', reason: 'upstream_502', attempt: 1 }, 2)).toBe('Failed: upstream 502 (attempt 1)');
  });
});
