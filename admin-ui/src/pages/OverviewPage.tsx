import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link } from 'react-router';

import { api, toQuery } from '../api/client';
import { keys, useApiKeys, usePools, useQuotaWindows, useStats, useUpstreams } from '../api/queries';
import type { AccountStatus, Job, Page, UsageReport } from '../api/types';
import { TimeChart } from '../components/BarChart';
import { CacheShareTable } from '../components/CacheShareTable';
import { Badge, EmptyState, Loading, QueryError, Section } from '../components/ui';
import { formatClient, formatCostMicros, formatCount, formatCountdown, formatShare, formatTokens } from '../lib/format';
import { summarizeCapacity } from '../lib/quota';
import { useNow } from '../lib/useNow';
import { cacheHitShare, hourBuckets, seriesByHour } from '../lib/usage';

const STATES: AccountStatus[] = ['active', 'refreshing', 'reauth_required', 'paused', 'disabled'];
const formatCostAxis = (micros: number) => formatCostMicros(micros);

/// What is healthy, what needs attention, and the last 24 hours of traffic.
export function OverviewPage() {
  const pools = usePools();
  const upstreams = useUpstreams();
  const usage = useQuery({
    queryKey: [...keys.usage, 'overview'],
    queryFn: () => api.get<UsageReport>('/admin/api/usage'),
    refetchInterval: 30_000,
  });
  const failedJobs = useQuery({
    queryKey: [...keys.jobs, 'failed'],
    queryFn: () => api.get<Page<Job>>(`/admin/api/jobs${toQuery({ state: 'failed', limit: 20 })}`),
  });

  const quota = useQuotaWindows();
  const byTransport = useStats('transport');
  const byKey = useStats('api_key');
  const byClient = useStats('client');
  const apiKeys = useApiKeys();
  const keyNames = new Map((apiKeys.data?.items ?? []).map((k) => [k.id, k.display_name]));
  const now = useNow(30_000);
  const accounts = upstreams.data?.items ?? [];
  const reauth = accounts.filter((a) => a.status === 'reauth_required');
  const perPool = (pools.data?.items ?? []).map((pool) => {
    const members = accounts.filter((a) => a.pool_ids.includes(pool.id));
    const counts = Object.fromEntries(STATES.map((s) => [s, members.filter((a) => a.status === s).length])) as Record<AccountStatus, number>;
    const servingIds = new Set(members.filter((a) => a.status === 'active' || a.status === 'refreshing').map((a) => a.id));
    const capacity = summarizeCapacity(quota.data?.items ?? [], servingIds);
    return { pool, members, counts, capacity, serving: counts.active + counts.refreshing };
  });
  const exhausted = perPool.filter((p) => p.pool.status === 'active' && p.serving === 0);

  const hour = Math.floor(Date.now() / 3600_000);
  const buckets = useMemo(() => hourBuckets(hour * 3600_000, 24), [hour]);
  const times = useMemo(() => buckets.map((b) => b / 1000), [buckets]);
  const rows = usage.data?.by_hour ?? [];
  const requestSeries = useMemo(
    () => [
      { label: 'Requests', values: seriesByHour(rows, buckets, (r) => r.requests), color: '#1f5fbf' },
      { label: 'Errors', values: seriesByHour(rows, buckets, (r) => r.errors), color: '#b3261e' },
    ],
    [rows, buckets],
  );
  const tokenSeries = useMemo(
    () => [
      { label: 'Input tokens', values: seriesByHour(rows, buckets, (r) => r.input_tokens), color: '#1f5fbf' },
      { label: 'Output tokens', values: seriesByHour(rows, buckets, (r) => r.output_tokens), color: '#2e7d32' },
    ],
    [rows, buckets],
  );
  const costSeries = useMemo(() => [{ label: 'Cost', values: seriesByHour(rows, buckets, (r) => r.cost_micros), color: '#6a3fb5' }], [rows, buckets]);
  const totals = usage.data?.totals;
  const share = totals ? cacheHitShare(totals) : null;

  return (
    <div className="page">
      <h1>Overview</h1>
      <Section title="Needs attention">
        {pools.isPending || upstreams.isPending ? (
          <Loading />
        ) : reauth.length === 0 && exhausted.length === 0 && (failedJobs.data?.items.length ?? 0) === 0 ? (
          <p>Nothing needs attention: every account is signed in, every pool has an account to serve, and no job failed.</p>
        ) : (
          <ul className="attention">
            {reauth.map((account) => (
              <li key={account.id}>
                <Badge value="reauth_required" /> <Link to={`/admin/upstreams/${account.id}`}>{account.label || account.email || account.chatgpt_account_id}</Link> must be
                re-imported (its refresh token no longer works).
              </li>
            ))}
            {exhausted.map(({ pool }) => (
              <li key={pool.id}>
                <Badge value="exhausted" tone="bad" /> Pool <Link to="/admin/pools">{pool.name}</Link> has no active account: its keys get errors.
              </li>
            ))}
            {(failedJobs.data?.items ?? []).map((job) => (
              <li key={job.id}>
                <Badge value="failed" /> Job <Link to="/admin/jobs">{job.kind}</Link>: {job.last_error ?? 'no detail'}
              </li>
            ))}
          </ul>
        )}
      </Section>

      <Section title="Last 24 hours">
        {usage.isPending && <Loading />}
        {usage.isError && <QueryError error={usage.error} />}
        {totals && (
          <>
            <div className="stats" data-testid="usage-totals">
              <Stat label="Requests" value={formatCount(totals.requests)} />
              <Stat label="Errors" value={formatCount(totals.errors)} />
              <Stat label="Input tokens" value={formatTokens(totals.input_tokens)} />
              <Stat label="Output tokens" value={formatTokens(totals.output_tokens)} />
              <Stat label="Cost" value={formatCostMicros(totals.cost_micros)} />
              <Stat label="Prompt-cache hits" value={share === null ? '–' : formatShare(totals.cached_input_tokens, totals.input_tokens)} />
            </div>
            <p className="hint">Hourly figures come from the usage rollups, rebuilt by the usage_rollup job every hour (Jobs, Run now).</p>
            <div className="charts">
              <TimeChart title="Requests and errors" times={times} series={requestSeries} format={formatCount} integer />
              <TimeChart title="Tokens" times={times} series={tokenSeries} format={formatTokens} integer />
              <TimeChart title="Cost" times={times} series={costSeries} format={formatCostAxis} />
            </div>
          </>
        )}
      </Section>

      <Section title="Prompt-cache hits (last 24 hours)">
        <p className="hint">Cached input over input tokens, from the request logs. A drop after a client release or a fall back from websockets shows here first.</p>
        {byTransport.isError && <QueryError error={byTransport.error} />}
        {byTransport.data && <CacheShareTable report={byTransport.data} caption="By transport" nameOf={(key) => key ?? 'unknown'} />}
        {byClient.isError && <QueryError error={byClient.error} />}
        {byClient.data && byClient.data.series.length > 0 && <CacheShareTable report={byClient.data} caption="By client" nameOf={formatClient} />}
        {byKey.isError && <QueryError error={byKey.error} />}
        {byKey.data && byKey.data.series.length > 0 && (
          <CacheShareTable report={byKey.data} caption="By API key" nameOf={(key) => (key ? keyNames.get(key) ?? key : 'no key (refused)')} />
        )}
      </Section>

      <Section title="Pools">
        {pools.isError && <QueryError error={pools.error} />}
        {perPool.length === 0 && !pools.isPending ? (
          <EmptyState title="No pools yet">
            <p>
              Create a pool on <Link to="/admin/pools">Pools</Link>, import accounts on <Link to="/admin/upstreams">Upstreams</Link>, then create a key on{' '}
              <Link to="/admin/api-keys">API keys</Link>.
            </p>
          </EmptyState>
        ) : (
          <table className="table">
            <caption className="visually-hidden">Accounts by state in each pool</caption>
            <thead>
              <tr>
                <th scope="col">Pool</th>
                <th scope="col">Status</th>
                {STATES.map((s) => (
                  <th scope="col" key={s}>{s === 'reauth_required' ? 'Reauth required' : s.charAt(0).toUpperCase() + s.slice(1)}</th>
                ))}
                <th scope="col">Capacity left</th>
                <th scope="col">Requests (24 h)</th>
              </tr>
            </thead>
            <tbody>
              {perPool.map(({ pool, counts, capacity }) => {
                const poolUsage = usage.data?.by_pool.find((p) => p.pool_id === pool.id);
                return (
                  <tr key={pool.id}>
                    <th scope="row">{pool.name}</th>
                    <td><Badge value={pool.status} /></td>
                    {STATES.map((s) => (
                      <td key={s}>{counts[s]}</td>
                    ))}
                    <td>
                      {capacity.length === 0
                        ? 'no quota evidence yet'
                        : capacity.map((c) => (
                            <div key={c.label}>
                              {c.label}: {Math.round(c.remaining)}% left over {c.accounts} account{c.accounts === 1 ? '' : 's'}
                              {c.exhausted > 0 ? `, ${c.exhausted} exhausted (${formatCountdown(c.next_reset, now)})` : ''}
                            </div>
                          ))}
                    </td>
                    <td>{formatCount(poolUsage?.requests ?? 0)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </Section>
    </div>
  );
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="stat">
      <span className="stat-label">{label}</span>
      <span className="stat-value">{value}</span>
    </div>
  );
}
