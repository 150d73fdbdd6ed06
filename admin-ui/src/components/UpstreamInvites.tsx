// Hosted upstream invites (docs/admin-api.md, "Adding accounts by sign-in"): an owner invites an
// email to a pool; the teammate opens the link, gets a device code and approves it with the
// invited ChatGPT account, without a pooler login. The link is shown once (the server keeps a
// keyed hash) and lives 24 hours; invites can be revoked and reissued.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';

import { api } from '../api/client';
import { keys, usePools, useUpstreamInvites } from '../api/queries';
import type { CreatedUpstreamInvite, UpstreamInvite } from '../api/types';
import { formatDateTime, formatRelative } from '../lib/format';
import { inviteLink } from '../lib/signin';
import { useNow } from '../lib/useNow';
import { checkEmail } from '../lib/validation';
import { Badge, EmptyState, Field, FormError, Loading, QueryError, Section, Select, fieldErrorsOf } from './ui';

export function UpstreamInvitesPanel() {
  const pools = usePools();
  const options = (pools.data?.items ?? []).filter((p) => p.status === 'active').map((p) => ({ value: p.id, label: p.name }));
  const [chosen, setChosen] = useState('');
  const poolId = options.some((o) => o.value === chosen) ? chosen : (options[0]?.value ?? '');
  const invites = useUpstreamInvites(poolId);
  const queryClient = useQueryClient();
  const now = useNow(30_000);
  const [email, setEmail] = useState('');
  const [emailError, setEmailError] = useState<string | undefined>(undefined);
  const [revealed, setRevealed] = useState<CreatedUpstreamInvite | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: keys.upstreamInvites });
  const create = useMutation({
    mutationFn: () => api.post<CreatedUpstreamInvite>('/admin/api/upstream-invites', { pool_id: poolId, email: email.trim() }),
    onSuccess: (reply) => {
      setRevealed(reply);
      setEmail('');
      return refresh();
    },
    onError: (error) => setEmailError(fieldErrorsOf(error).email),
  });
  const action = useMutation({
    mutationFn: ({ invite, verb }: { invite: UpstreamInvite; verb: 'revoke' | 'reissue' }) =>
      api.post<CreatedUpstreamInvite | { invite: UpstreamInvite }>(`/admin/api/upstream-invites/${invite.id}/${verb}`),
    onSuccess: (reply) => {
      setRevealed('path' in reply ? reply : null);
      return refresh();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const errors: Record<string, string> = {};
    checkEmail(errors, 'email', email);
    setEmailError(errors.email);
    if (!errors.email) create.mutate();
  };
  if (pools.data && options.length === 0) return null;
  return (
    <Section title="Hosted invites">
      <p className="hint intro">
        Invite a teammate to add their own ChatGPT account to a pool: they open the link, get a device code and approve it with the
        invited email. They need no dashboard login and never see a token.
      </p>
      {revealed && <RevealedInvite created={revealed} onDismiss={() => setRevealed(null)} />}
      <form onSubmit={submit} noValidate className="inline-form invite-form">
        <Select label="Invite to pool" value={poolId} onChange={setChosen} options={options} />
        <Field label="Teammate's email" type="email" value={email} onChange={setEmail} error={emailError} autoComplete="off" />
        <button type="submit" className="primary" disabled={!poolId || create.isPending}>
          Create invite
        </button>
      </form>
      <FormError error={create.error} shownFields={['email']} />
      <FormError error={action.error} />
      {invites.isPending && poolId !== '' && <Loading />}
      {invites.isError && <QueryError error={invites.error} />}
      {invites.data && invites.data.items.length === 0 && <EmptyState title="No invites for this pool" />}
      {invites.data && invites.data.items.length > 0 && (
        <table className="table" aria-label="Hosted invites of the pool">
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {invites.data.items.map((invite) => (
              <tr key={invite.id} data-testid={`upstream-invite-${invite.email}`}>
                <th scope="row">{invite.email}</th>
                <td><Badge value={invite.status} /></td>
                <td>{formatDateTime(invite.created_at)}</td>
                <td>{invite.status === 'active' ? formatRelative(invite.expires_at, now) : '–'}</td>
                <td className="actions">
                  {invite.status !== 'accepted' && (
                    <button
                      type="button"
                      aria-label={`Reissue the invite of ${invite.email}`}
                      disabled={action.isPending}
                      onClick={() => action.mutate({ invite, verb: 'reissue' })}
                    >
                      Reissue
                    </button>
                  )}
                  {invite.status === 'active' && (
                    <button
                      type="button"
                      className="danger"
                      aria-label={`Revoke the invite of ${invite.email}`}
                      disabled={action.isPending}
                      onClick={() => window.confirm(`Revoke the invite of ${invite.email}? Its link stops working.`) && action.mutate({ invite, verb: 'revoke' })}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

/// The invite link, shown once after create or reissue.
function RevealedInvite({ created, onDismiss }: { created: CreatedUpstreamInvite; onDismiss: () => void }) {
  const [copied, setCopied] = useState(false);
  const link = inviteLink(window.location.origin, created.path);
  return (
    <div className="once" role="status" aria-live="polite">
      <p>
        <strong>Send this link to {created.invite.email}.</strong> It is shown once and lives 24 hours (until{' '}
        {formatDateTime(created.invite.expires_at)}); reissue the invite if it gets lost.
      </p>
      <p>
        <code className="secret" data-testid="upstream-invite-link">{link}</code>
      </p>
      <button
        type="button"
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(link);
            setCopied(true);
          } catch {
            setCopied(false);
          }
        }}
      >
        {copied ? 'Copied' : 'Copy link'}
      </button>{' '}
      <button type="button" onClick={onDismiss}>
        I sent the link
      </button>
    </div>
  );
}
