import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';

import { api, toQuery } from '../api/client';
import { keys, usePoolNames, usePools } from '../api/queries';
import type { AuditEvent, Page } from '../api/types';
import { Badge, Drawer, EmptyState, Field, Loading, Pager, QueryError, Section, Select } from '../components/ui';
import { formatDateTime, shortId } from '../lib/format';

export function AuditLogPage() {
  const pools = usePools();
  const poolNames = usePoolNames();
  const [action, setAction] = useState('');
  const [poolId, setPoolId] = useState('');
  const [actorId, setActorId] = useState('');
  const [applied, setApplied] = useState({ action: '', pool_id: '', actor_id: '' });
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [selected, setSelected] = useState<AuditEvent | null>(null);
  const query = { ...applied, cursor: cursors[cursors.length - 1] ?? null, limit: 50 };
  const events = useQuery({
    queryKey: [...keys.audit, query],
    queryFn: () => api.get<Page<AuditEvent>>(`/admin/api/audit-logs${toQuery(query)}`),
    placeholderData: keepPreviousData,
  });
  const apply = (event: FormEvent) => {
    event.preventDefault();
    setApplied({ action: action.trim(), pool_id: poolId, actor_id: actorId.trim() });
    setCursors([null]);
  };
  return (
    <div className="page">
      <h1>Audit log</h1>
      <p className="lead">Every change and every login, newest first.</p>
      <Section title="Filters">
        <form onSubmit={apply} noValidate className="filters">
          <Field label="Action" value={action} onChange={setAction} placeholder="e.g. pool.create" />
          <Select label="Pool" value={poolId} onChange={setPoolId} options={[{ value: '', label: 'Any pool' }, ...(pools.data?.items ?? []).map((p) => ({ value: p.id, label: p.name }))]} />
          <Field label="Actor id" value={actorId} onChange={setActorId} />
          <div className="filter-actions">
            <button type="submit" className="primary">Apply filters</button>
          </div>
        </form>
      </Section>
      <Section title="Events">
        {events.isPending && <Loading />}
        {events.isError && <QueryError error={events.error} />}
        {events.data && events.data.items.length === 0 && <EmptyState title="No events match these filters" />}
        {events.data && events.data.items.length > 0 && (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Action</th>
                <th scope="col">Outcome</th>
                <th scope="col">Actor</th>
                <th scope="col">Target</th>
                <th scope="col">Pool</th>
                <th scope="col">Client IP</th>
                <th scope="col"><span className="visually-hidden">Details</span></th>
              </tr>
            </thead>
            <tbody>
              {events.data.items.map((event) => (
                <tr key={event.id}>
                  <td>{formatDateTime(event.occurred_at)}</td>
                  <td><code>{event.action}</code></td>
                  <td><Badge value={event.outcome} /></td>
                  <td>{event.actor_type} {shortId(event.actor_id)}</td>
                  <td>{event.target_type ?? '–'} {shortId(event.target_id)}</td>
                  <td>{event.pool_id ? poolNames.get(event.pool_id) ?? shortId(event.pool_id) : '–'}</td>
                  <td>{event.client_ip ?? '–'}</td>
                  <td>
                    <button type="button" onClick={() => setSelected(event)} aria-label={`Details of ${event.action} at ${formatDateTime(event.occurred_at)}`}>
                      Details
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Pager cursors={cursors} nextCursor={events.data?.next_cursor} onChange={setCursors} />
      </Section>
      {selected && (
        <Drawer title={selected.action} onClose={() => setSelected(null)}>
          <pre className="json">{JSON.stringify(selected, null, 2)}</pre>
        </Drawer>
      )}
    </div>
  );
}
