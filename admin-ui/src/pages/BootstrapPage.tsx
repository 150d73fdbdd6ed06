import { useMutation, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';

import { api } from '../api/client';
import type { BootstrapStatus } from '../api/types';
import { Field, FormError, Loading, fieldErrorsOf } from '../components/ui';
import { checkEmail, checkPassword, checkRequired, hasErrors } from '../lib/validation';

/// Creates the first instance owner; once one exists it points to the login.
export function BootstrapPage() {
  const navigate = useNavigate();
  const status = useQuery({ queryKey: ['bootstrap-status'], queryFn: () => api.get<BootstrapStatus>('/bootstrap/status') });
  const [email, setEmail] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const create = useMutation({
    mutationFn: () => api.post('/bootstrap', { email: email.trim(), password, display_name: displayName.trim() }),
    onSuccess: () => navigate('/admin/login?bootstrapped=1', { replace: true }),
    onError: (error) => setErrors(fieldErrorsOf(error)),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    checkEmail(found, 'email', email);
    checkRequired(found, 'display_name', displayName);
    checkPassword(found, 'password', password);
    if (!found.password && password !== confirm) found.confirm = 'does not match the password';
    setErrors(found);
    if (!hasErrors(found)) create.mutate();
  };

  return (
    <main className="centered">
      <div className="card auth-card">
        <h1>Create the first owner</h1>
        {status.isPending && <Loading />}
        {status.data?.bootstrap === 'completed' ? (
          <p>
            This instance already has an owner. <Link to="/admin/login">Log in</Link>.
          </p>
        ) : (
          <form onSubmit={submit} noValidate>
            <p className="hint">The owner manages pools, upstream accounts, keys, operators and settings.</p>
            <Field label="Email" type="email" autoComplete="email" value={email} onChange={setEmail} error={errors.email} />
            <Field label="Display name" autoComplete="name" value={displayName} onChange={setDisplayName} error={errors.display_name} />
            <Field label="Password" type="password" autoComplete="new-password" value={password} onChange={setPassword} error={errors.password} hint="At least 12 characters." />
            <Field label="Confirm password" type="password" autoComplete="new-password" value={confirm} onChange={setConfirm} error={errors.confirm} />
            <FormError error={create.error} shownFields={['email', 'display_name', 'password']} />
            <button type="submit" className="primary" disabled={create.isPending}>
              Create owner
            </button>
          </form>
        )}
      </div>
    </main>
  );
}
