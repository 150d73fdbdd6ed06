import type { StatsReport } from '../api/types';
import { formatCostMicros, formatCount, formatShare, formatTokens } from '../lib/format';

/// One row per series of a stats report: requests, tokens, cost and the prompt-cache hit share.
export function CacheShareTable({ report, caption, nameOf }: { report: StatsReport; caption: string; nameOf: (key: string | null) => string }) {
  if (report.series.length === 0) return <p>No requests in the last 24 hours.</p>;
  return (
    <table className="table">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{report.group_by === 'api_key' ? 'API key' : report.group_by === 'transport' ? 'Transport' : report.group_by === 'client' ? 'Client' : 'Series'}</th>
          <th scope="col">Requests</th>
          <th scope="col">Errors</th>
          <th scope="col">Input tokens</th>
          <th scope="col">Cached input</th>
          <th scope="col">Prompt-cache hits</th>
          <th scope="col">Cost</th>
        </tr>
      </thead>
      <tbody>
        {report.series.map((series) => (
          <tr key={series.key ?? ''}>
            <th scope="row">{nameOf(series.key)}</th>
            <td>{formatCount(series.totals.requests)}</td>
            <td>{formatCount(series.totals.errors)}</td>
            <td>{formatTokens(series.totals.input_tokens)}</td>
            <td>{formatTokens(series.totals.cached_input_tokens)}</td>
            <td>{formatShare(series.totals.cached_input_tokens, series.totals.input_tokens)}</td>
            <td>{formatCostMicros(series.totals.cost_micros)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
