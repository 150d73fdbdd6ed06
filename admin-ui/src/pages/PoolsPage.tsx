import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';

import { api } from '../api/client';
import { isOwner, keys, usePools } from '../api/queries';
import type { Page, Pool, PoolModel, RoutingStrategy } from '../api/types';
import { Badge, Checkbox, Drawer, EmptyState, Field, FormError, Loading, QueryError, Section, Select, fieldErrorsOf } from '../components/ui';
import { formatDateTime, humanize } from '../lib/format';
import { useUser } from '../lib/session';
import { checkRequired, hasErrors, parseIntInRange } from '../lib/validation';

const STRATEGIES: { value: RoutingStrategy; label: string }[] = [
  { value: 'bridge_ring', label: 'Bridge ring (default)' },
  { value: 'deterministic_rotation', label: 'Deterministic rotation' },
  { value: 'least_recent_success', label: 'Least recent success' },
  { value: 'quota_first', label: 'Quota first' },
];

export function PoolsPage() {
  const user = useUser();
  const pools = usePools();
  const [editing, setEditing] = useState<Pool | null>(null);
  const [models, setModels] = useState<Pool | null>(null);
  const queryClient = useQueryClient();
  const toggle = useMutation({
    mutationFn: (pool: Pool) => api.post<Pool>(`/admin/api/pools/${pool.id}/${pool.status === 'active' ? 'disable' : 'enable'}`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.pools }),
  });
  return (
    <div className="page">
      <h1>Pools</h1>
      <p className="lead">A pool is a set of upstream accounts behind its own API keys, with its routing rules.</p>
      {isOwner(user) && (
        <Section title="Create a pool">
          <PoolForm submitLabel="Create pool" onDone={() => undefined} />
        </Section>
      )}
      <Section title="All pools">
        {pools.isPending && <Loading />}
        {pools.isError && <QueryError error={pools.error} />}
        <FormError error={toggle.error} />
        {pools.data && pools.data.items.length === 0 && (
          <EmptyState title="No pools yet">
            <p>{isOwner(user) ? 'Create one above, then import upstream accounts into it.' : 'An owner has not assigned you a pool yet.'}</p>
          </EmptyState>
        )}
        {pools.data && pools.data.items.length > 0 && (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Slug</th>
                <th scope="col">Status</th>
                <th scope="col">Strategy</th>
                <th scope="col">Ring size</th>
                <th scope="col">Switches</th>
                <th scope="col">Created</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {pools.data.items.map((pool) => (
                <tr key={pool.id}>
                  <th scope="row">{pool.name}</th>
                  <td><code>{pool.slug}</code></td>
                  <td><Badge value={pool.status} /></td>
                  <td>{humanize(pool.routing_strategy)}</td>
                  <td>{pool.ring_size}</td>
                  <td className="switches">
                    {[
                      pool.sticky_sessions && 'sticky sessions',
                      pool.prompt_cache_affinity && 'prompt-cache affinity',
                      pool.v1_compatibility_enabled && '/v1',
                      pool.allow_image_generation && 'images',
                    ]
                      .filter(Boolean)
                      .join(', ') || 'none'}
                  </td>
                  <td>{formatDateTime(pool.created_at)}</td>
                  <td className="actions">
                    <button type="button" onClick={() => setModels(pool)} aria-label={`Models of ${pool.name}`}>
                      Models
                    </button>
                    <button type="button" onClick={() => setEditing(pool)} aria-label={`Edit ${pool.name}`}>
                      Edit
                    </button>
                    {isOwner(user) && (
                      <button type="button" onClick={() => toggle.mutate(pool)} disabled={toggle.isPending} aria-label={`${pool.status === 'active' ? 'Disable' : 'Enable'} ${pool.name}`}>
                        {pool.status === 'active' ? 'Disable' : 'Enable'}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      {editing && (
        <Drawer title={`Edit ${editing.name}`} onClose={() => setEditing(null)}>
          <PoolForm pool={editing} submitLabel="Save pool" onDone={() => setEditing(null)} />
        </Drawer>
      )}
      {models && (
        <Drawer title={`Models of ${models.name}`} onClose={() => setModels(null)}>
          <PoolModels pool={models} />
        </Drawer>
      )}
    </div>
  );
}

function PoolForm({ pool, submitLabel, onDone }: { pool?: Pool; submitLabel: string; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(pool?.name ?? '');
  const [strategy, setStrategy] = useState<string>(pool?.routing_strategy ?? 'bridge_ring');
  const [ringSize, setRingSize] = useState(String(pool?.ring_size ?? 3));
  const [sticky, setSticky] = useState(pool?.sticky_sessions ?? true);
  const [cacheAffinity, setCacheAffinity] = useState(pool?.prompt_cache_affinity ?? true);
  const [v1, setV1] = useState(pool?.v1_compatibility_enabled ?? true);
  const [images, setImages] = useState(pool?.allow_image_generation ?? true);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (body: Record<string, unknown>) => (pool ? api.patch<Pool>(`/admin/api/pools/${pool.id}`, body) : api.post<Pool>('/admin/api/pools', body)),
    onSuccess: async (saved) => {
      await queryClient.invalidateQueries({ queryKey: keys.pools });
      setSaved(`Pool ${saved.name} ${pool ? 'saved' : 'created'}.`);
      if (!pool) setName('');
      onDone();
    },
    onError: (error) => setErrors(fieldErrorsOf(error)),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    checkRequired(found, 'name', name);
    const ring = parseIntInRange(found, 'ring_size', ringSize, 1, 64);
    setErrors(found);
    setSaved(null);
    if (hasErrors(found)) return;
    save.mutate({
      name: name.trim(),
      routing_strategy: strategy,
      ring_size: ring,
      sticky_sessions: sticky,
      prompt_cache_affinity: cacheAffinity,
      v1_compatibility_enabled: v1,
      allow_image_generation: images,
    });
  };
  return (
    <form onSubmit={submit} noValidate className="grid-form">
      <Field label="Pool name" value={name} onChange={setName} error={errors.name} />
      <Select label="Routing strategy" value={strategy} onChange={setStrategy} options={STRATEGIES} error={errors.routing_strategy} />
      <Field label="Ring size" inputMode="numeric" value={ringSize} onChange={setRingSize} error={errors.ring_size} hint="Accounts a request may try in turn (1–64)." />
      <Checkbox label="Sticky sessions" checked={sticky} onChange={setSticky} hint="A session stays on its account." />
      <Checkbox label="Prompt-cache affinity" checked={cacheAffinity} onChange={setCacheAffinity} />
      <Checkbox label="/v1 compatibility" checked={v1} onChange={setV1} />
      <Checkbox label="Allow image generation" checked={images} onChange={setImages} />
      <FormError error={save.error} shownFields={['name', 'routing_strategy', 'ring_size']} />
      {saved && <p className="notice" role="status">{saved}</p>}
      <div>
        <button type="submit" className="primary" disabled={save.isPending}>
          {submitLabel}
        </button>
      </div>
    </form>
  );
}

function PoolModels({ pool }: { pool: Pool }) {
  const models = useQuery({ queryKey: [...keys.pools, pool.id, 'models'], queryFn: () => api.get<Page<PoolModel>>(`/admin/api/pools/${pool.id}/models`) });
  if (models.isPending) return <Loading />;
  if (models.isError) return <QueryError error={models.error} />;
  if (models.data.items.length === 0) {
    return <EmptyState title="No models yet"><p>The catalog_sync job lists what the pool's active accounts serve; it runs every 30 minutes and after an account joins.</p></EmptyState>;
  }
  return (
    <table className="table">
      <thead>
        <tr>
          <th scope="col">Model</th>
          <th scope="col">Status</th>
          <th scope="col">Accounts</th>
          <th scope="col">Last seen</th>
        </tr>
      </thead>
      <tbody>
        {models.data.items.map((model) => (
          <tr key={model.slug}>
            <th scope="row">{model.slug}</th>
            <td><Badge value={model.status} /></td>
            <td>{model.account_count}</td>
            <td>{formatDateTime(model.last_seen_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
