import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';

import { api } from '../api/client';
import { keys, useApiKeys, usePoolNames, usePools, useStats } from '../api/queries';
import type { ApiKey, CreatedApiKey, KeyPolicy } from '../api/types';
import { Badge, EmptyState, Field, FormError, Loading, QueryError, Section, Select, fieldErrorsOf } from '../components/ui';
import { formatCostMicros, formatCount, formatDateTime, formatRelative, formatTokens } from '../lib/format';
import { useNow } from '../lib/useNow';
import { checkRequired, hasErrors, parseFutureLocalDateTime, parseList, parseOptionalPositiveInt } from '../lib/validation';

const EFFORTS = ['', 'none', 'minimal', 'low', 'medium', 'high', 'xhigh'];

export function ApiKeysPage() {
  const pools = usePools();
  const poolNames = usePoolNames();
  const [poolFilter, setPoolFilter] = useState('');
  const [statusFilter, setStatusFilter] = useState('');
  const apiKeys = useApiKeys({ pool_id: poolFilter, status: statusFilter });
  const [revealed, setRevealed] = useState<CreatedApiKey | null>(null);
  const queryClient = useQueryClient();
  const now = useNow(30_000);
  const usage = useStats('api_key');
  const usageOf = (id: string) => usage.data?.series.find((series) => series.key === id)?.totals;
  const action = useMutation({
    mutationFn: ({ key, verb }: { key: ApiKey; verb: 'pause' | 'resume' | 'revoke' | 'rotate' }) => api.post<ApiKey | CreatedApiKey>(`/admin/api/api-keys/${key.id}/${verb}`),
    onSuccess: (reply) => {
      if ('key' in reply && typeof reply.key === 'string') setRevealed(reply as CreatedApiKey);
      return queryClient.invalidateQueries({ queryKey: keys.apiKeys });
    },
  });
  const poolOptions = (pools.data?.items ?? []).map((p) => ({ value: p.id, label: p.name }));
  return (
    <div className="page">
      <h1>API keys</h1>
      <p className="lead">Clients (the Codex CLI, SDKs, agents) authenticate with a pool's API key. The raw key is shown once, when it is created or rotated.</p>
      {revealed && <RevealedKey created={revealed} onDismiss={() => setRevealed(null)} />}
      <Section title="Create a key">
        {poolOptions.length === 0 ? (
          <EmptyState title="No pool to create a key for"><p>Create a pool on <Link to="/admin/pools">Pools</Link> first.</p></EmptyState>
        ) : (
          <CreateKeyForm poolOptions={poolOptions} onCreated={setRevealed} />
        )}
      </Section>
      <Section title="Keys">
        <div className="filters">
          <Select label="Pool" value={poolFilter} onChange={setPoolFilter} options={[{ value: '', label: 'Any pool' }, ...poolOptions]} />
          <Select
            label="Status"
            value={statusFilter}
            onChange={setStatusFilter}
            options={[
              { value: '', label: 'Any status' },
              { value: 'active', label: 'Active' },
              { value: 'paused', label: 'Paused' },
              { value: 'revoked', label: 'Revoked' },
            ]}
          />
        </div>
        <FormError error={action.error} />
        {apiKeys.isPending && <Loading />}
        {apiKeys.isError && <QueryError error={apiKeys.error} />}
        {apiKeys.data && apiKeys.data.items.length === 0 && <EmptyState title="No keys"><p>Create one above and give it to a client.</p></EmptyState>}
        {apiKeys.data && apiKeys.data.items.length > 0 && (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Pool</th>
                <th scope="col">Status</th>
                <th scope="col">Last 24 h</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">Policy</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {apiKeys.data.items.map((key) => (
                <tr key={key.id}>
                  <th scope="row">{key.display_name}</th>
                  <td><code>{key.key_prefix}</code></td>
                  <td>{poolNames.get(key.pool_id) ?? key.pool_id}</td>
                  <td><Badge value={key.status} /></td>
                  <td>
                    {(() => {
                      const totals = usageOf(key.id);
                      return totals
                        ? `${formatCount(totals.requests)} requests, ${formatTokens(totals.input_tokens + totals.output_tokens)} tokens, ${formatCostMicros(totals.cost_micros)}`
                        : 'no requests';
                    })()}
                  </td>
                  <td>{formatRelative(key.last_used_at ?? null, now)}</td>
                  <td>{key.expires_at ? formatDateTime(key.expires_at) : 'never'}</td>
                  <td>{describePolicy(key.policy)}</td>
                  <td className="actions">
                    <Link to={`/admin/request-logs?api_key_id=${key.id}`} aria-label={`Usage of ${key.display_name}`}>Usage</Link>
                    {key.status !== 'revoked' && (
                      <>
                        {key.status === 'active' ? (
                          <button type="button" onClick={() => action.mutate({ key, verb: 'pause' })} aria-label={`Pause ${key.display_name}`}>Pause</button>
                        ) : (
                          <button type="button" onClick={() => action.mutate({ key, verb: 'resume' })} aria-label={`Resume ${key.display_name}`}>Resume</button>
                        )}
                        <button type="button" onClick={() => window.confirm(`Rotate ${key.display_name}? The current key stops working at once.`) && action.mutate({ key, verb: 'rotate' })} aria-label={`Rotate ${key.display_name}`}>
                          Rotate
                        </button>
                        <button type="button" className="danger" onClick={() => window.confirm(`Revoke ${key.display_name}? This is final.`) && action.mutate({ key, verb: 'revoke' })} aria-label={`Revoke ${key.display_name}`}>
                          Revoke
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </div>
  );
}

export function describePolicy(policy: KeyPolicy | null): string {
  if (!policy) return 'none';
  const parts: string[] = [];
  if (policy.allowed_models) parts.push(policy.allowed_models.length ? `models: ${policy.allowed_models.join(', ')}` : 'no model allowed');
  if (policy.enforced_model) parts.push(`forces ${policy.enforced_model}`);
  if (policy.max_reasoning_effort) parts.push(`effort ≤ ${policy.max_reasoning_effort}`);
  if (policy.enforced_reasoning_effort) parts.push(`effort = ${policy.enforced_reasoning_effort}`);
  if (policy.max_requests_per_minute) parts.push(`${policy.max_requests_per_minute}/min`);
  if (policy.max_tokens_per_day) parts.push(`${policy.max_tokens_per_day} tokens/day`);
  if (policy.max_tokens_per_week) parts.push(`${policy.max_tokens_per_week} tokens/week`);
  return parts.join('; ') || 'none';
}

function RevealedKey({ created, onDismiss }: { created: CreatedApiKey; onDismiss: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="once" role="status" aria-live="polite">
      <p>
        <strong>Copy the key for {created.display_name} now.</strong> It is not shown again.
      </p>
      <p>
        <code className="secret" data-testid="raw-api-key">{created.key}</code>
      </p>
      <button
        type="button"
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(created.key);
            setCopied(true);
          } catch {
            setCopied(false);
          }
        }}
      >
        {copied ? 'Copied' : 'Copy key'}
      </button>{' '}
      <button type="button" onClick={onDismiss}>
        I saved the key
      </button>
    </div>
  );
}

function CreateKeyForm({ poolOptions, onCreated }: { poolOptions: { value: string; label: string }[]; onCreated: (key: CreatedApiKey) => void }) {
  const queryClient = useQueryClient();
  const [poolId, setPoolId] = useState(poolOptions[0]?.value ?? '');
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const [models, setModels] = useState('');
  const [effort, setEffort] = useState('');
  const [rpm, setRpm] = useState('');
  const [perDay, setPerDay] = useState('');
  const [perWeek, setPerWeek] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const create = useMutation({
    mutationFn: (body: Record<string, unknown>) => api.post<CreatedApiKey>('/admin/api/api-keys', body),
    onSuccess: async (created) => {
      onCreated(created);
      setName('');
      await queryClient.invalidateQueries({ queryKey: keys.apiKeys });
    },
    onError: (error) => {
      const fields = fieldErrorsOf(error);
      // Policy members come back as `policy.max_requests_per_minute` or bare.
      const flat: Record<string, string> = {};
      for (const [field, text] of Object.entries(fields)) flat[field.replace(/^policy\./, '')] = text;
      setErrors(flat);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    checkRequired(found, 'pool_id', poolId);
    checkRequired(found, 'display_name', name);
    const expiresAt = parseFutureLocalDateTime(found, 'expires_at', expires, Date.now());
    const policy: KeyPolicy = {};
    const allowed = parseList(models);
    if (allowed.length) policy.allowed_models = allowed;
    if (effort) policy.max_reasoning_effort = effort;
    const maxRpm = parseOptionalPositiveInt(found, 'max_requests_per_minute', rpm);
    const maxDay = parseOptionalPositiveInt(found, 'max_tokens_per_day', perDay);
    const maxWeek = parseOptionalPositiveInt(found, 'max_tokens_per_week', perWeek);
    if (maxRpm) policy.max_requests_per_minute = maxRpm;
    if (maxDay) policy.max_tokens_per_day = maxDay;
    if (maxWeek) policy.max_tokens_per_week = maxWeek;
    setErrors(found);
    if (hasErrors(found)) return;
    create.mutate({
      pool_id: poolId,
      display_name: name.trim(),
      ...(expiresAt ? { expires_at: expiresAt } : {}),
      ...(Object.keys(policy).length ? { policy } : {}),
    });
  };
  const shown = ['pool_id', 'display_name', 'expires_at', 'allowed_models', 'max_reasoning_effort', 'max_requests_per_minute', 'max_tokens_per_day', 'max_tokens_per_week'];
  return (
    <form onSubmit={submit} noValidate className="grid-form">
      <Select label="Key pool" value={poolId} onChange={setPoolId} options={poolOptions} error={errors.pool_id} />
      <Field label="Key name" value={name} onChange={setName} error={errors.display_name} hint="Who or what uses it, e.g. laptop." />
      <Field label="Expires at (optional)" type="datetime-local" value={expires} onChange={setExpires} error={errors.expires_at} hint="In your time zone; empty never expires." />
      <Field label="Allowed models (optional)" value={models} onChange={setModels} error={errors.allowed_models} hint="Comma-separated; empty allows every model." />
      <Select label="Maximum reasoning effort" value={effort} onChange={setEffort} options={EFFORTS.map((e) => ({ value: e, label: e || 'No limit' }))} error={errors.max_reasoning_effort} />
      <Field label="Requests per minute (optional)" inputMode="numeric" value={rpm} onChange={setRpm} error={errors.max_requests_per_minute} />
      <Field label="Tokens per day (optional)" inputMode="numeric" value={perDay} onChange={setPerDay} error={errors.max_tokens_per_day} />
      <Field label="Tokens per week (optional)" inputMode="numeric" value={perWeek} onChange={setPerWeek} error={errors.max_tokens_per_week} />
      <FormError error={create.error} shownFields={shown.concat(shown.map((f) => `policy.${f}`))} />
      <div>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create key
        </button>
      </div>
    </form>
  );
}
