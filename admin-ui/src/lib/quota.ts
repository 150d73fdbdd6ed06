// Quota windows as operators read them: "5h" and "7d" windows, what is left, and when the
// soonest one resets.
import type { QuotaWindow } from '../api/types';

/// A window's length in words: 300 -> "5h", 10080 -> "7d", 45 -> "45m".
export function formatWindow(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440}d`;
  if (minutes % 60 === 0) return `${minutes / 60}h`;
  return `${minutes}m`;
}

/// Percent left, clamped to 0–100.
export function remainingPercent(window: Pick<QuotaWindow, 'used_percent'>): number {
  return Math.min(100, Math.max(0, 100 - window.used_percent));
}

/// The label of a window: the limit's name when it is not the Codex one, then its length.
export function windowLabel(window: Pick<QuotaWindow, 'limit_id' | 'limit_name' | 'window_minutes'>): string {
  const length = formatWindow(window.window_minutes);
  return window.limit_id === 'codex' ? length : `${window.limit_name ?? window.limit_id} ${length}`;
}

export interface CapacitySummary {
  label: string;
  window_minutes: number;
  accounts: number;
  /// Mean percent left over the accounts that reported this window.
  remaining: number;
  /// Accounts with nothing left.
  exhausted: number;
  /// The earliest reset among the exhausted accounts (or among all, when none is), ISO-8601.
  next_reset: string | null;
}

/// Capacity of a set of accounts per window, shortest window first.
export function summarizeCapacity(windows: QuotaWindow[], accountIds: Set<string>): CapacitySummary[] {
  const groups = new Map<string, QuotaWindow[]>();
  for (const window of windows) {
    if (!accountIds.has(window.account_id)) continue;
    const key = `${window.limit_id}/${window.window_minutes}`;
    groups.set(key, [...(groups.get(key) ?? []), window]);
  }
  const summaries: CapacitySummary[] = [];
  for (const group of groups.values()) {
    const first = group[0];
    if (!first) continue;
    const exhausted = group.filter((w) => remainingPercent(w) <= 0);
    const resets = (exhausted.length > 0 ? exhausted : group).map((w) => w.reset_at).filter((r): r is string => r !== null).sort();
    summaries.push({
      label: windowLabel(first),
      window_minutes: first.window_minutes,
      accounts: group.length,
      remaining: group.reduce((sum, w) => sum + remainingPercent(w), 0) / group.length,
      exhausted: exhausted.length,
      next_reset: resets[0] ?? null,
    });
  }
  return summaries.sort((a, b) => a.window_minutes - b.window_minutes || a.label.localeCompare(b.label));
}
