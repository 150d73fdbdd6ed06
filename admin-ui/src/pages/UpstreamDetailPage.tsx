import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';

import { api, toQuery } from '../api/client';
import { isOwner, keys, usePoolNames, usePools, useQuotaWindows } from '../api/queries';
import type { Account, Page, RequestLog } from '../api/types';
import { QuotaBars } from '../components/QuotaBars';
import { RelinkButton } from '../components/SignInFlows';
import { Badge, EmptyState, Facts, Field, FormError, Loading, QueryError, Section, fieldErrorsOf } from '../components/ui';
import { formatCostMicros, formatDateTime, formatRelative, formatTokens, humanize } from '../lib/format';
import { useUser } from '../lib/session';
import { useNow } from '../lib/useNow';
import { ImportPanel, accountName } from './UpstreamsPage';

/// One account: identity, token freshness, pools, label, recent requests and errors.
export function UpstreamDetailPage() {
  const { id = '' } = useParams();
  const user = useUser();
  const now = useNow(30_000);
  const queryClient = useQueryClient();
  const poolNames = usePoolNames();
  const pools = usePools();
  const quota = useQuotaWindows();
  const account = useQuery({ queryKey: [...keys.upstreams, id], queryFn: () => api.get<Account>(`/admin/api/upstreams/${id}`) });
  const recent = useQuery({
    queryKey: [...keys.requestLogs, 'account', id],
    queryFn: () => api.get<Page<RequestLog>>(`/admin/api/request-logs${toQuery({ account_id: id, limit: 20 })}`),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: keys.upstreams });
  const action = useMutation({
    mutationFn: (verb: 'pause' | 'resume') => api.post(`/admin/api/upstreams/${id}/${verb}`),
    onSuccess: refresh,
  });
  const membership = useMutation({
    mutationFn: ({ poolId, join }: { poolId: string; join: boolean }) =>
      join ? api.put(`/admin/api/upstreams/${id}/pools/${poolId}`) : api.del(`/admin/api/upstreams/${id}/pools/${poolId}`),
    onSuccess: refresh,
  });

  if (account.isPending) return <div className="page"><Loading /></div>;
  if (account.isError) return <div className="page"><h1>Upstream account</h1><QueryError error={account.error} /></div>;
  const a = account.data;
  const otherPools = (pools.data?.items ?? []).filter((p) => !a.pool_ids.includes(p.id));
  return (
    <div className="page">
      <p><Link to="/admin/upstreams">← Upstreams</Link></p>
      <h1>{accountName(a)}</h1>
      <Section
        title="Identity and tokens"
        actions={
          <div className="panel-actions">
            {isOwner(user) && <RelinkButton account={a} name={accountName(a)} />}
            {isOwner(user) && <RelinkButton account={a} name={accountName(a)} method="browser" label="Sign in again in the browser" />}
            {a.status === 'paused' ? (
              <button type="button" onClick={() => action.mutate('resume')} disabled={action.isPending}>Resume</button>
            ) : (
              <button type="button" onClick={() => action.mutate('pause')} disabled={action.isPending || (a.status !== 'active' && a.status !== 'refreshing')}>Pause</button>
            )}
          </div>
        }
      >
        {a.status === 'reauth_required' && (
          <p className="form-error">
            OpenAI no longer accepts this account's tokens. {isOwner(user) ? 'Use "Sign in again" with the same ChatGPT account.' : 'An owner must sign it in again.'}
          </p>
        )}
        <FormError error={action.error} />
        <Facts
          items={[
            ['State', <Badge key="s" value={a.status} />],
            ['ChatGPT account', <code key="c">{a.chatgpt_account_id}</code>],
            ['Email', a.email ?? '–'],
            ['Plan', a.plan_type ?? '–'],
            ['Onboarded by', humanize(a.onboarding_method)],
            ['Last refresh', `${formatDateTime(a.last_refresh_at)} (${formatRelative(a.last_refresh_at, now)})`],
            ['Access token expires', `${formatDateTime(a.access_token_expires_at)} (${formatRelative(a.access_token_expires_at, now)})`],
            ['Encryption key version', a.secret_key_version],
            ['Added', formatDateTime(a.created_at)],
          ]}
        />
      </Section>
      <Section title="Quota windows">
        {quota.isError && <QueryError error={quota.error} />}
        <QuotaBars windows={(quota.data?.items ?? []).filter((w) => w.account_id === a.id)} now={now} />
        <p className="hint">From the upstream's rate-limit headers on each answer and the quota_reconciliation job's usage polls.</p>
      </Section>
      <LabelForm account={a} />
      <Section title="Pools">
        <FormError error={membership.error} />
        {a.pool_ids.length === 0 ? (
          <p>In no pool: it serves no key until it is added to one.</p>
        ) : (
          <ul className="plain">
            {a.pool_ids.map((poolId) => (
              <li key={poolId}>
                {poolNames.get(poolId) ?? poolId}{' '}
                <button type="button" onClick={() => membership.mutate({ poolId, join: false })} aria-label={`Remove from ${poolNames.get(poolId) ?? poolId}`}>
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
        {otherPools.length > 0 && (
          <ul className="plain">
            {otherPools.map((pool) => (
              <li key={pool.id}>
                <button type="button" onClick={() => membership.mutate({ poolId: pool.id, join: true })}>
                  Add to {pool.name}
                </button>
              </li>
            ))}
          </ul>
        )}
      </Section>
      {isOwner(user) && <ImportPanel title="Re-import auth.json" fixedPoolIds={a.pool_ids} />}
      <Section title="Recent requests">
        {recent.isPending && <Loading />}
        {recent.isError && <QueryError error={recent.error} />}
        {recent.data && recent.data.items.length === 0 && <EmptyState title="No requests yet" />}
        {recent.data && recent.data.items.length > 0 && (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Model</th>
                <th scope="col">Status</th>
                <th scope="col">Error</th>
                <th scope="col">Tokens</th>
                <th scope="col">Cost</th>
              </tr>
            </thead>
            <tbody>
              {recent.data.items.map((row) => (
                <tr key={row.id}>
                  <td>{formatDateTime(row.occurred_at)}</td>
                  <td>{row.model ?? '–'}</td>
                  <td><Badge value={row.outcome} /> {row.status_code}</td>
                  <td>{row.error_code ?? '–'}</td>
                  <td>{formatTokens((row.input_tokens ?? 0) + (row.output_tokens ?? 0))}</td>
                  <td>{formatCostMicros(row.cost_micros)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </div>
  );
}

function LabelForm({ account }: { account: Account }) {
  const queryClient = useQueryClient();
  const [label, setLabel] = useState(account.label ?? '');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const save = useMutation({
    mutationFn: () => api.patch(`/admin/api/upstreams/${account.id}`, { label: label.trim() || null }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.upstreams }),
    onError: (error) => setErrors(fieldErrorsOf(error)),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setErrors({});
    save.mutate();
  };
  return (
    <Section title="Label">
      <form onSubmit={submit} noValidate className="inline-form">
        <Field label="Label" value={label} onChange={setLabel} error={errors.label} hint="Empty clears it." />
        <FormError error={save.error} shownFields={['label']} />
        <button type="submit" disabled={save.isPending}>Save label</button>
      </form>
    </Section>
  );
}
