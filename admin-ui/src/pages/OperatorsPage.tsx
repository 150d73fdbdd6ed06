import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';

import { api } from '../api/client';
import { keys, usePoolNames, usePools } from '../api/queries';
import type { CreatedInvite, Invite, Operator, Page } from '../api/types';
import { Badge, Drawer, EmptyState, Field, FormError, Loading, MultiCheck, QueryError, Section, Select, fieldErrorsOf } from '../components/ui';
import { formatDateTime } from '../lib/format';
import { checkEmail, checkPassword, checkRequired, hasErrors, parseIntInRange } from '../lib/validation';

const ROLES = [
  { value: 'instance_admin', label: 'Admin (assigned pools only)' },
  { value: 'instance_owner', label: 'Owner (everything)' },
];

export function OperatorsPage() {
  const operators = useQuery({ queryKey: keys.operators, queryFn: () => api.get<Page<Operator>>('/admin/api/operators?limit=200') });
  const invites = useQuery({ queryKey: keys.invites, queryFn: () => api.get<Page<Invite>>('/admin/api/invites?limit=200') });
  const poolNames = usePoolNames();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Operator | null>(null);
  const [createdInvite, setCreatedInvite] = useState<CreatedInvite | null>(null);
  const revoke = useMutation({
    mutationFn: (invite: Invite) => api.post(`/admin/api/invites/${invite.id}/revoke`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.invites }),
  });
  const poolsOf = (ids: string[]) => ids.map((id) => poolNames.get(id) ?? id).join(', ') || '–';
  return (
    <div className="page">
      <h1>Operators</h1>
      <p className="lead">People who run this gateway. Owners do everything; admins manage only the pools assigned to them.</p>
      <Section title="Operators">
        {operators.isPending && <Loading />}
        {operators.isError && <QueryError error={operators.error} />}
        {operators.data && (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Two-factor</th>
                <th scope="col">Pools</th>
                <th scope="col">Last login</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {operators.data.items.map((op) => (
                <tr key={op.id}>
                  <th scope="row">{op.display_name}</th>
                  <td>{op.email}</td>
                  <td>{op.role === 'instance_owner' ? 'Owner' : 'Admin'}</td>
                  <td><Badge value={op.status} />{op.password_change_required ? ' must change password' : ''}</td>
                  <td>{op.totp_status}</td>
                  <td>{op.role === 'instance_owner' ? 'all' : poolsOf(op.pool_ids)}</td>
                  <td>{formatDateTime(op.last_login_at)}</td>
                  <td>
                    <button type="button" onClick={() => setEditing(op)} aria-label={`Edit ${op.display_name}`}>Edit</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="Add an operator">
        <CreateOperatorForm />
      </Section>
      <Section title="Invites">
        {createdInvite && (
          <div className="once" role="status">
            <p><strong>Send this link to {createdInvite.email}.</strong> It is shown once and works until {formatDateTime(createdInvite.expires_at)}.</p>
            <p><code className="secret">{createdInvite.accept_url}</code></p>
            <button type="button" onClick={() => void navigator.clipboard.writeText(createdInvite.accept_url).catch(() => undefined)}>Copy link</button>{' '}
            <button type="button" onClick={() => setCreatedInvite(null)}>Done</button>
          </div>
        )}
        <InviteForm onCreated={setCreatedInvite} />
        <FormError error={revoke.error} />
        {invites.data && invites.data.items.length === 0 && <EmptyState title="No invites" />}
        {invites.data && invites.data.items.length > 0 && (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Pools</th>
                <th scope="col">Expires</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {invites.data.items.map((invite) => (
                <tr key={invite.id}>
                  <th scope="row">{invite.email}</th>
                  <td>{invite.role === 'instance_owner' ? 'Owner' : 'Admin'}</td>
                  <td><Badge value={invite.status} /></td>
                  <td>{poolsOf(invite.pool_ids)}</td>
                  <td>{formatDateTime(invite.expires_at)}</td>
                  <td>
                    {invite.status === 'pending' && (
                      <button type="button" onClick={() => revoke.mutate(invite)} aria-label={`Revoke the invite of ${invite.email}`}>Revoke</button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      {editing && (
        <Drawer title={`Edit ${editing.display_name}`} onClose={() => setEditing(null)}>
          <EditOperatorForm operator={editing} onDone={() => setEditing(null)} />
        </Drawer>
      )}
    </div>
  );
}

function CreateOperatorForm() {
  const pools = usePools();
  const queryClient = useQueryClient();
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState('instance_admin');
  const [password, setPassword] = useState('');
  const [poolIds, setPoolIds] = useState<string[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [done, setDone] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: () => api.post<Operator>('/admin/api/operators', { email: email.trim(), display_name: name.trim(), role, temporary_password: password, pool_ids: role === 'instance_admin' ? poolIds : [] }),
    onSuccess: async (op) => {
      setDone(`${op.email} was added; they choose their own password at first login.`);
      setEmail('');
      setName('');
      setPassword('');
      setPoolIds([]);
      await queryClient.invalidateQueries({ queryKey: keys.operators });
    },
    onError: (error) => setErrors(fieldErrorsOf(error)),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    checkEmail(found, 'email', email);
    checkRequired(found, 'display_name', name);
    checkPassword(found, 'temporary_password', password);
    setErrors(found);
    setDone(null);
    if (!hasErrors(found)) create.mutate();
  };
  return (
    <form onSubmit={submit} noValidate className="grid-form">
      <Field label="Operator email" type="email" value={email} onChange={setEmail} error={errors.email} />
      <Field label="Operator name" value={name} onChange={setName} error={errors.display_name} />
      <Select label="Role" value={role} onChange={setRole} options={ROLES} error={errors.role} />
      <Field label="Temporary password" type="password" autoComplete="new-password" value={password} onChange={setPassword} error={errors.temporary_password} hint="At least 12 characters; changed at first login." />
      {role === 'instance_admin' && <MultiCheck legend="Pools this admin manages" options={(pools.data?.items ?? []).map((p) => ({ value: p.id, label: p.name }))} selected={poolIds} onChange={setPoolIds} error={errors.pool_ids} />}
      <FormError error={create.error} shownFields={['email', 'display_name', 'role', 'temporary_password', 'pool_ids']} />
      {done && <p className="notice" role="status">{done}</p>}
      <div><button type="submit" className="primary" disabled={create.isPending}>Add operator</button></div>
    </form>
  );
}

function InviteForm({ onCreated }: { onCreated: (invite: CreatedInvite) => void }) {
  const pools = usePools();
  const queryClient = useQueryClient();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('instance_admin');
  const [ttl, setTtl] = useState('72');
  const [poolIds, setPoolIds] = useState<string[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const create = useMutation({
    mutationFn: (ttlHours: number) => api.post<CreatedInvite>('/admin/api/invites', { email: email.trim(), role, ttl_hours: ttlHours, pool_ids: role === 'instance_admin' ? poolIds : [] }),
    onSuccess: async (invite) => {
      onCreated(invite);
      setEmail('');
      await queryClient.invalidateQueries({ queryKey: keys.invites });
    },
    onError: (error) => setErrors(fieldErrorsOf(error)),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    checkEmail(found, 'email', email);
    const hours = parseIntInRange(found, 'ttl_hours', ttl, 1, 720);
    setErrors(found);
    if (!hasErrors(found) && hours !== undefined) create.mutate(hours);
  };
  return (
    <form onSubmit={submit} noValidate className="grid-form">
      <Field label="Invite email" type="email" value={email} onChange={setEmail} error={errors.email} />
      <Select label="Invite role" value={role} onChange={setRole} options={ROLES} error={errors.role} />
      <Field label="Valid for (hours)" inputMode="numeric" value={ttl} onChange={setTtl} error={errors.ttl_hours} />
      {role === 'instance_admin' && <MultiCheck legend="Pools for the invited admin" options={(pools.data?.items ?? []).map((p) => ({ value: p.id, label: p.name }))} selected={poolIds} onChange={setPoolIds} error={errors.pool_ids} />}
      <FormError error={create.error} shownFields={['email', 'role', 'ttl_hours', 'pool_ids']} />
      <div><button type="submit" className="primary" disabled={create.isPending}>Create invite</button></div>
    </form>
  );
}

function EditOperatorForm({ operator, onDone }: { operator: Operator; onDone: () => void }) {
  const pools = usePools();
  const queryClient = useQueryClient();
  const [name, setName] = useState(operator.display_name);
  const [role, setRole] = useState<string>(operator.role);
  const [status, setStatus] = useState(operator.status);
  const [poolIds, setPoolIds] = useState<string[]>(operator.pool_ids);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const save = useMutation({
    mutationFn: () => api.patch(`/admin/api/operators/${operator.id}`, { display_name: name.trim(), role, status, pool_ids: poolIds }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: keys.operators });
      onDone();
    },
    onError: (error) => setErrors(fieldErrorsOf(error)),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    checkRequired(found, 'display_name', name);
    setErrors(found);
    if (!hasErrors(found)) save.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Field label="Operator name" value={name} onChange={setName} error={errors.display_name} />
      <Select label="Role" value={role} onChange={setRole} options={ROLES} error={errors.role} />
      <Select label="Status" value={status} onChange={setStatus} options={[{ value: 'active', label: 'Active' }, { value: 'disabled', label: 'Disabled' }]} error={errors.status} />
      {role === 'instance_admin' && <MultiCheck legend="Pools this admin manages" options={(pools.data?.items ?? []).map((p) => ({ value: p.id, label: p.name }))} selected={poolIds} onChange={setPoolIds} error={errors.pool_ids} />}
      <FormError error={save.error} shownFields={['display_name', 'role', 'status', 'pool_ids']} />
      <button type="submit" className="primary" disabled={save.isPending}>Save operator</button>
    </form>
  );
}
