import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';

import { api } from '../api/client';
import { Field, FormError, fieldErrorsOf } from '../components/ui';
import { checkPassword, checkRequired, hasErrors } from '../lib/validation';

/// The invite's token rides in the URL fragment (never sent to a server); accepting creates the
/// operator, who then logs in.
export function InviteAcceptPage() {
  const navigate = useNavigate();
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token') ?? '';
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const accept = useMutation({
    mutationFn: () => api.post('/admin/api/invites/accept', { token, display_name: displayName.trim(), password }),
    onSuccess: () => navigate('/admin/login', { replace: true }),
    onError: (error) => setErrors(fieldErrorsOf(error)),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    checkRequired(found, 'display_name', displayName);
    checkPassword(found, 'password', password);
    setErrors(found);
    if (!hasErrors(found)) accept.mutate();
  };
  return (
    <main className="centered">
      <div className="card auth-card">
        <h1>Accept your invitation</h1>
        {!token ? (
          <p>This link has no invitation token. Ask the owner who invited you for a new link.</p>
        ) : (
          <form onSubmit={submit} noValidate>
            <Field label="Display name" autoComplete="name" value={displayName} onChange={setDisplayName} error={errors.display_name} />
            <Field label="Password" type="password" autoComplete="new-password" value={password} onChange={setPassword} error={errors.password} hint="At least 12 characters." />
            <FormError error={accept.error} shownFields={['display_name', 'password']} />
            <button type="submit" className="primary" disabled={accept.isPending}>
              Accept invitation
            </button>
          </form>
        )}
      </div>
    </main>
  );
}
