import type { QuotaWindow } from '../api/types';
import { formatCountdown } from '../lib/format';
import { remainingPercent, windowLabel } from '../lib/quota';

/// An account's quota windows as bars of what is left, each with its reset countdown.
export function QuotaBars({ windows, now }: { windows: QuotaWindow[]; now: number }) {
  if (windows.length === 0) return <span className="sub">no evidence yet</span>;
  const sorted = [...windows].sort((a, b) => a.window_minutes - b.window_minutes);
  return (
    <ul className="quota">
      {sorted.map((window) => {
        const left = remainingPercent(window);
        const tone = left <= 0 ? 'bad' : left < 20 ? 'warn' : 'ok';
        return (
          <li key={`${window.limit_id}/${window.window_minutes}`}>
            <span className="quota-label">
              {windowLabel(window)}: {Math.round(left)}% left
              {window.reset_at ? `, ${formatCountdown(window.reset_at, now)}` : ''}
            </span>
            <span className="quota-track" aria-hidden="true">
              <span className={`quota-fill quota-${tone}`} style={{ width: `${left}%` }} />
            </span>
          </li>
        );
      })}
    </ul>
  );
}
