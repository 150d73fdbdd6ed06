import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';

import { api, toQuery } from '../api/client';
import { isOwner, keys, usePools } from '../api/queries';
import { JOB_KINDS, type Job, type Page } from '../api/types';
import { Badge, EmptyState, FormError, Loading, Pager, QueryError, Section, Select, fieldErrorsOf } from '../components/ui';
import { formatDateTime, formatDuration, humanize } from '../lib/format';
import { useUser } from '../lib/session';

const STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

export function JobsPage() {
  const user = useUser();
  const [kind, setKind] = useState('');
  const [state, setState] = useState('');
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const query = { kind, state, cursor: cursors[cursors.length - 1] ?? null, limit: 50 };
  const jobs = useQuery({
    queryKey: [...keys.jobs, query],
    queryFn: () => api.get<Page<Job>>(`/admin/api/jobs${toQuery(query)}`),
    placeholderData: keepPreviousData,
    refetchInterval: 3000,
  });
  // The newest run of each kind, from the first page of everything.
  const latest = useQuery({
    queryKey: [...keys.jobs, 'latest'],
    queryFn: () => api.get<Page<Job>>(`/admin/api/jobs${toQuery({ limit: 200 })}`),
    refetchInterval: 3000,
  });
  const lastOf = (k: string) => latest.data?.items.find((job) => job.kind === k);
  return (
    <div className="page">
      <h1>Jobs</h1>
      <p className="lead">Background work: token refresh, quota reconciliation, catalog sync, pricing, usage rollups, retention and cleanup, each on its schedule.</p>
      <Section title="Kinds">
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Last run</th>
              <th scope="col">State</th>
              <th scope="col">Result</th>
            </tr>
          </thead>
          <tbody>
            {JOB_KINDS.map((k) => {
              const last = lastOf(k);
              return (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td>{last ? formatDateTime(last.finished_at ?? last.started_at ?? last.created_at) : 'not in the last 24 h'}</td>
                  <td>{last ? <Badge value={last.state} /> : '–'}</td>
                  <td className="outcome">{last ? last.last_error ?? summarize(last.outcome) : '–'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {isOwner(user) && <RunNowForm />}
      </Section>
      <Section title="Runs">
        <div className="filters">
          <Select label="Kind" value={kind} onChange={(v) => { setKind(v); setCursors([null]); }} options={[{ value: '', label: 'Any kind' }, ...JOB_KINDS.map((k) => ({ value: k, label: k }))]} />
          <Select label="State" value={state} onChange={(v) => { setState(v); setCursors([null]); }} options={[{ value: '', label: 'Any state' }, ...STATES.map((s) => ({ value: s, label: humanize(s) }))]} />
        </div>
        {jobs.isPending && <Loading />}
        {jobs.isError && <QueryError error={jobs.error} />}
        {jobs.data && jobs.data.items.length === 0 && <EmptyState title="No runs match"><p>Runs are kept for 24 hours after they finish.</p></EmptyState>}
        {jobs.data && jobs.data.items.length > 0 && (
          <table className="table" data-testid="job-runs">
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">State</th>
                <th scope="col">Origin</th>
                <th scope="col">Attempts</th>
                <th scope="col">Created</th>
                <th scope="col">Took</th>
                <th scope="col">Worker</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {jobs.data.items.map((job) => (
                <tr key={job.id}>
                  <th scope="row">{job.kind}</th>
                  <td><Badge value={job.state} /></td>
                  <td>{job.origin}</td>
                  <td>{job.attempts}/{job.max_attempts}</td>
                  <td>{formatDateTime(job.created_at)}</td>
                  <td>{job.started_at && job.finished_at ? formatDuration(new Date(job.finished_at).getTime() - new Date(job.started_at).getTime()) : '–'}</td>
                  <td><code>{job.locked_by ?? '–'}</code></td>
                  <td className="outcome">{job.last_error ?? summarize(job.outcome)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Pager cursors={cursors} nextCursor={jobs.data?.next_cursor} onChange={setCursors} />
      </Section>
    </div>
  );
}

export function summarize(outcome: Record<string, unknown> | null): string {
  if (!outcome) return '–';
  return Object.entries(outcome)
    .map(([key, value]) => `${key}: ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
    .join(', ');
}

function RunNowForm() {
  const pools = usePools();
  const queryClient = useQueryClient();
  const [kind, setKind] = useState<string>('usage_rollup');
  const [poolId, setPoolId] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const run = useMutation({
    mutationFn: () => api.post<{ job: Job; created: boolean }>('/admin/api/jobs', { kind, ...(kind === 'catalog_sync' && poolId ? { pool_id: poolId } : {}) }),
    onSuccess: async (reply) => {
      setErrors({});
      setMessage(reply.created ? `${reply.job.kind} queued; a worker picks it up within a second.` : `${reply.job.kind} is already queued or running.`);
      await queryClient.invalidateQueries({ queryKey: keys.jobs });
    },
    onError: (error) => {
      setMessage(null);
      setErrors(fieldErrorsOf(error));
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    run.mutate();
  };
  return (
    <form onSubmit={submit} noValidate className="inline-form">
      <Select label="Job kind" value={kind} onChange={setKind} options={JOB_KINDS.map((k) => ({ value: k, label: k }))} error={errors.kind} />
      {kind === 'catalog_sync' && (
        <Select label="Only this pool" value={poolId} onChange={setPoolId} options={[{ value: '', label: 'Every pool' }, ...(pools.data?.items ?? []).map((p) => ({ value: p.id, label: p.name }))]} error={errors.pool_id} />
      )}
      <button type="submit" className="primary" disabled={run.isPending}>
        Run now
      </button>
      <FormError error={run.error} shownFields={['kind', 'pool_id']} />
      {message && <p className="notice" role="status">{message}</p>}
    </form>
  );
}
