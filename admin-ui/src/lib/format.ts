// Formatters shared by the pages. Pure functions of their arguments (the clock and the locale are
// parameters), so the unit tests pin them.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/// "12,345" for counts; "–" when the value is missing.
export function formatCount(value: number | null | undefined, locale?: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(value);
}

/// Token counts in compact form: 950, 12.3k, 4.5M.
export function formatTokens(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs < 1000) return String(Math.round(value));
  if (abs < 1_000_000) return `${trimZero((value / 1000).toFixed(1))}k`;
  if (abs < 1_000_000_000) return `${trimZero((value / 1_000_000).toFixed(1))}M`;
  return `${trimZero((value / 1_000_000_000).toFixed(1))}B`;
}

function trimZero(text: string): string {
  return text.endsWith('.0') ? text.slice(0, -2) : text;
}

/// Micro-USD as dollars: $0.0123 below a cent keeps four decimals, otherwise two.
export function formatCostMicros(micros: number | null | undefined): string {
  if (micros === null || micros === undefined || !Number.isFinite(micros)) return '–';
  const dollars = micros / 1_000_000;
  if (dollars !== 0 && Math.abs(dollars) < 0.01) return `$${dollars.toFixed(4)}`;
  return `$${dollars.toFixed(2)}`;
}

/// Milliseconds as "840 ms" or "2.4 s".
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < MINUTE) return `${trimZero((ms / 1000).toFixed(1))} s`;
  return formatSpan(ms);
}

/// A span as its two largest units: "3d 4h", "2h 5m", "45s".
export function formatSpan(ms: number): string {
  const total = Math.max(0, Math.round(ms / SECOND));
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (days > 0) return hours > 0 ? `${days}d ${hours}h` : `${days}d`;
  if (hours > 0) return minutes > 0 ? `${hours}h ${minutes}m` : `${hours}h`;
  if (minutes > 0) return seconds > 0 ? `${minutes}m ${seconds}s` : `${minutes}m`;
  return `${seconds}s`;
}

/// Time until `target` as a countdown ("resets in 2h 5m"), or "reset" once it passed.
export function formatCountdown(target: string | number | Date | null | undefined, now: number): string {
  if (target === null || target === undefined) return '–';
  const at = new Date(target).getTime();
  if (!Number.isFinite(at)) return '–';
  const left = at - now;
  if (left <= 0) return 'reset';
  return `resets in ${formatSpan(left)}`;
}

/// "5 minutes ago", "in 2 hours", in the browser's language.
export function formatRelative(iso: string | null | undefined, now: number, locale?: string): string {
  if (!iso) return '–';
  const at = new Date(iso).getTime();
  if (!Number.isFinite(at)) return '–';
  const diff = at - now;
  const abs = Math.abs(diff);
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  if (abs < MINUTE) return rtf.format(Math.round(diff / SECOND), 'second');
  if (abs < HOUR) return rtf.format(Math.round(diff / MINUTE), 'minute');
  if (abs < DAY) return rtf.format(Math.round(diff / HOUR), 'hour');
  return rtf.format(Math.round(diff / DAY), 'day');
}

/// A timestamp in the browser's time zone (or `timeZone`), e.g. "Dec 5, 2026, 09:26:15".
export function formatDateTime(iso: string | null | undefined, locale?: string, timeZone?: string): string {
  if (!iso) return '–';
  const at = new Date(iso);
  if (!Number.isFinite(at.getTime())) return '–';
  return new Intl.DateTimeFormat(locale, {
    dateStyle: 'medium',
    timeStyle: 'medium',
    hourCycle: 'h23',
    ...(timeZone ? { timeZone } : {}),
  }).format(at);
}

/// An hour bucket's label on a chart axis: "09:00".
export function formatHour(iso: string, locale?: string, timeZone?: string): string {
  return new Intl.DateTimeFormat(locale, {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    ...(timeZone ? { timeZone } : {}),
  }).format(new Date(iso));
}

/// Share as a percentage with one decimal, "–" when the denominator is zero.
export function formatShare(part: number, whole: number): string {
  if (!whole) return '–';
  return `${trimZero(((part / whole) * 100).toFixed(1))}%`;
}

/// Shortens a UUID for tables: the first 8 characters.
export function shortId(id: string | null | undefined): string {
  if (!id) return '–';
  return id.length > 8 ? id.slice(0, 8) : id;
}

/// Human words for an enum value: "reauth_required" -> "Reauth required".
export function humanize(value: string | null | undefined): string {
  if (!value) return '–';
  const text = value.replace(/_/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/// A client series key of the stats API ("codex_cli_rs/0.171.0") as "codex_cli_rs 0.171.0";
/// requests logged before the client was recorded have none.
export function formatClient(key: string | null | undefined): string {
  if (!key) return 'not recorded';
  const slash = key.indexOf('/');
  return slash < 0 ? key : `${key.slice(0, slash)} ${key.slice(slash + 1)}`;
}

/// What routing did with one account: "Served", "Failed: upstream 502",
/// "Skipped: quota exhausted"; with the attempt it belongs to after a failover.
export function describeRouting(candidate: { outcome: string; reason?: string | null; attempt?: number }, attempts: number): string {
  const outcome = humanize(candidate.outcome);
  const reason = candidate.reason ? `: ${candidate.reason.replace(/_/g, ' ')}` : '';
  const attempt = attempts > 1 && candidate.attempt ? ` (attempt ${candidate.attempt})` : '';
  return `${outcome}${reason}${attempt}`;
}
