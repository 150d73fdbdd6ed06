import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';

import { api, toQuery } from '../api/client';
import { keys, useApiKeys, usePoolNames, usePools, useUpstreams } from '../api/queries';
import type { Page, RequestLog } from '../api/types';
import { Badge, Checkbox, Drawer, EmptyState, Facts, Field, FormError, Loading, Pager, QueryError, Section, Select, fieldErrorsOf } from '../components/ui';
import { describeRouting, formatClient, formatCostMicros, formatDateTime, formatDuration, formatTokens, humanize, shortId } from '../lib/format';
import { hasErrors, parseIntInRange } from '../lib/validation';

const FILTERS = ['pool_id', 'api_key_id', 'account_id', 'model', 'outcome', 'status_code', 'from', 'to'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

/// A `datetime-local` value as the ISO-8601 UTC time the API takes.
function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const at = new Date(local);
  return Number.isFinite(at.getTime()) ? at.toISOString().replace(/\.\d{3}Z$/, 'Z') : undefined;
}

export function RequestLogsPage() {
  const [params, setParams] = useSearchParams();
  const applied: Filters = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ''])) as Filters;
  const [draft, setDraft] = useState<Filters>(applied);
  const [draftErrors, setDraftErrors] = useState<Record<string, string>>({});
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [live, setLive] = useState(true);
  const [selected, setSelected] = useState<string | null>(null);
  const pools = usePools();
  const poolNames = usePoolNames();
  const apiKeys = useApiKeys();
  const accounts = useUpstreams();
  const accountNames = new Map((accounts.data?.items ?? []).map((a) => [a.id, a.label || a.email || a.chatgpt_account_id]));
  const keyNames = new Map((apiKeys.data?.items ?? []).map((k) => [k.id, k.display_name]));
  const cursor = cursors[cursors.length - 1] ?? null;

  const query = { ...applied, from: toIso(applied.from ?? ''), to: toIso(applied.to ?? ''), cursor, limit: 50 };
  const logs = useQuery({
    queryKey: [...keys.requestLogs, query],
    queryFn: () => api.get<Page<RequestLog>>(`/admin/api/request-logs${toQuery(query)}`),
    placeholderData: keepPreviousData,
    // Live updates on the first page: new requests appear as they are logged.
    refetchInterval: live && cursors.length === 1 ? 3000 : false,
  });

  const apply = (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (draft.status_code) parseIntInRange(found, 'status_code', draft.status_code, 100, 599);
    setDraftErrors(found);
    if (hasErrors(found)) return;
    const next = new URLSearchParams();
    for (const f of FILTERS) if (draft[f]) next.set(f, draft[f] ?? '');
    setParams(next);
    setCursors([null]);
  };
  const set = (field: keyof Filters) => (value: string) => setDraft({ ...draft, [field]: value });
  const any = (label: string) => [{ value: '', label }];
  const serverFields = fieldErrorsOf(logs.error);

  return (
    <div className="page">
      <h1>Request logs</h1>
      <p className="lead">One row per client request, with every upstream attempt. Never a prompt, a body or a token.</p>
      <Section title="Filters">
        <form onSubmit={apply} noValidate className="filters">
          <Select label="Pool" value={draft.pool_id ?? ''} onChange={set('pool_id')} options={any('Any pool').concat((pools.data?.items ?? []).map((p) => ({ value: p.id, label: p.name })))} />
          <Select label="API key" value={draft.api_key_id ?? ''} onChange={set('api_key_id')} options={any('Any key').concat((apiKeys.data?.items ?? []).map((k) => ({ value: k.id, label: k.display_name })))} />
          <Select label="Account" value={draft.account_id ?? ''} onChange={set('account_id')} options={any('Any account').concat((accounts.data?.items ?? []).map((a) => ({ value: a.id, label: a.label || a.email || a.chatgpt_account_id })))} />
          <Field label="Model" value={draft.model ?? ''} onChange={set('model')} error={serverFields.model} />
          <Select
            label="Outcome"
            value={draft.outcome ?? ''}
            onChange={set('outcome')}
            options={any('Any outcome').concat(['succeeded', 'failed', 'rejected', 'cancelled'].map((o) => ({ value: o, label: humanize(o) })))}
          />
          <Field label="HTTP status" inputMode="numeric" value={draft.status_code ?? ''} onChange={set('status_code')} error={draftErrors.status_code ?? serverFields.status_code} />
          <Field label="From" type="datetime-local" value={draft.from ?? ''} onChange={set('from')} error={serverFields.from} />
          <Field label="To" type="datetime-local" value={draft.to ?? ''} onChange={set('to')} error={serverFields.to} />
          <div className="filter-actions">
            <button type="submit" className="primary">Apply filters</button>
          </div>
        </form>
        <Checkbox label="Live updates" checked={live} onChange={setLive} hint="Refreshes the first page every few seconds." />
      </Section>
      <Section title="Requests">
        {logs.isPending && <Loading />}
        {logs.isError && <QueryError error={logs.error} />}
        {logs.data && logs.data.items.length === 0 && (
          <EmptyState title="No requests match"><p>Point a client at the gateway with one of your API keys, or widen the filters.</p></EmptyState>
        )}
        {logs.data && logs.data.items.length > 0 && (
          <table className="table" data-testid="request-log-table">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Status</th>
                <th scope="col">Model</th>
                <th scope="col">Account</th>
                <th scope="col">Key</th>
                <th scope="col">Route</th>
                <th scope="col">Tokens in / out</th>
                <th scope="col">Cost</th>
                <th scope="col">Latency</th>
                <th scope="col"><span className="visually-hidden">Details</span></th>
              </tr>
            </thead>
            <tbody>
              {logs.data.items.map((row) => (
                <tr key={row.id}>
                  <td>{formatDateTime(row.occurred_at)}</td>
                  <td><Badge value={row.outcome} /> {row.status_code}</td>
                  <td>{row.model ?? '–'}</td>
                  <td>{row.account_id ? accountNames.get(row.account_id) ?? shortId(row.account_id) : '–'}</td>
                  <td>{row.api_key_id ? keyNames.get(row.api_key_id) ?? shortId(row.api_key_id) : '–'}</td>
                  <td><code>{row.route}</code> <span className="sub">{row.transport}</span></td>
                  <td>{formatTokens(row.input_tokens)} / {formatTokens(row.output_tokens)}</td>
                  <td>{formatCostMicros(row.cost_micros)}</td>
                  <td>{formatDuration(row.latency_ms)}</td>
                  <td>
                    <button type="button" onClick={() => setSelected(row.id)} aria-label={`Details of the request at ${formatDateTime(row.occurred_at)}`}>
                      Details
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Pager cursors={cursors} nextCursor={logs.data?.next_cursor} onChange={setCursors} />
      </Section>
      {selected && (
        <Drawer title="Request" onClose={() => setSelected(null)}>
          <RequestDetail id={selected} accountNames={accountNames} keyNames={keyNames} poolNames={poolNames} />
        </Drawer>
      )}
    </div>
  );
}

function RequestDetail({ id, accountNames, keyNames, poolNames }: { id: string; accountNames: Map<string, string>; keyNames: Map<string, string>; poolNames: Map<string, string> }) {
  const detail = useQuery({ queryKey: [...keys.requestLogs, 'detail', id], queryFn: () => api.get<RequestLog>(`/admin/api/request-logs/${id}`) });
  if (detail.isPending) return <Loading />;
  if (detail.isError) return <FormError error={detail.error} />;
  const row = detail.data;
  const account = (accountId: string | null) => (accountId ? accountNames.get(accountId) ?? shortId(accountId) : '–');
  return (
    <>
      <Facts
        items={[
          ['Time', formatDateTime(row.occurred_at)],
          ['Outcome', <span key="o"><Badge value={row.outcome} /> {row.status_code} {row.error_code ?? ''}</span>],
          ['Pool', row.pool_id ? poolNames.get(row.pool_id) ?? row.pool_id : '–'],
          ['API key', row.api_key_id ? keyNames.get(row.api_key_id) ?? row.api_key_id : '–'],
          ['Account', account(row.account_id)],
          ['Route', `${row.route} (${row.transport})`],
          ['Model', `${row.model ?? '–'}${row.service_tier ? ` · ${row.service_tier}` : ''}`],
          ['Tokens', `${formatTokens(row.input_tokens)} in (${formatTokens(row.cached_input_tokens)} cached), ${formatTokens(row.output_tokens)} out, ${formatTokens(row.reasoning_tokens)} reasoning`],
          ['Cost', `${formatCostMicros(row.cost_micros)} (${row.pricing_status ?? 'not priced'})`],
          ['Latency', `${formatDuration(row.latency_ms)}, first byte ${formatDuration(row.ttfb_ms)}`],
          ['Client IP', row.client_ip ?? '–'],
          ['Client', formatClient(row.client)],
        ]}
      />
      <h3>Attempts</h3>
      {(row.attempts ?? []).length === 0 ? (
        <p>No upstream attempt (refused before routing).</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Account</th>
              <th scope="col">Status</th>
              <th scope="col">Error</th>
              <th scope="col">Latency</th>
              <th scope="col">First byte</th>
            </tr>
          </thead>
          <tbody>
            {(row.attempts ?? []).map((attempt) => (
              <tr key={attempt.attempt_number}>
                <td>{attempt.attempt_number}</td>
                <td>{account(attempt.account_id)}</td>
                <td><Badge value={attempt.outcome} /> {attempt.status_code ?? ''}</td>
                <td>{attempt.error_code ?? '–'}</td>
                <td>{formatDuration(attempt.latency_ms)}</td>
                <td>{formatDuration(attempt.ttfb_ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Routing decision</h3>
      {row.routing?.candidates?.length ? (
        <ol>
          {row.routing.candidates.map((candidate) => (
            <li key={candidate.account_id}>
              {candidate.label ?? account(candidate.account_id)}: {describeRouting(candidate, row.attempt_count)}
            </li>
          ))}
          {row.routing.omitted ? <li>…and {row.routing.omitted} more accounts</li> : null}
        </ol>
      ) : (
        <p>No routing decision recorded (refused before routing, or logged before decisions were recorded).</p>
      )}
    </>
  );
}
