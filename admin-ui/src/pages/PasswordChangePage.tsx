import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';

import { api } from '../api/client';
import { keys, useSession } from '../api/queries';
import { Field, FormError, fieldErrorsOf } from '../components/ui';
import { checkPassword, checkRequired, hasErrors } from '../lib/validation';

/// The password form, forced for an operator created with a temporary password; also reachable
/// from Account.
export function PasswordChangeForm({ onDone }: { onDone: () => void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const change = useMutation({
    mutationFn: () => api.post('/admin/api/session/password', { current_password: current, new_password: next }),
    onSuccess: () => {
      setCurrent('');
      setNext('');
      setConfirm('');
      onDone();
    },
    onError: (error) => setErrors(fieldErrorsOf(error)),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    checkRequired(found, 'current_password', current);
    checkPassword(found, 'new_password', next);
    if (!found.new_password && next !== confirm) found.confirm = 'does not match the new password';
    setErrors(found);
    if (!hasErrors(found)) change.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Field label="Current password" type="password" autoComplete="current-password" value={current} onChange={setCurrent} error={errors.current_password} />
      <Field label="New password" type="password" autoComplete="new-password" value={next} onChange={setNext} error={errors.new_password} hint="At least 12 characters." />
      <Field label="Confirm new password" type="password" autoComplete="new-password" value={confirm} onChange={setConfirm} error={errors.confirm} />
      <FormError error={change.error} shownFields={['current_password', 'new_password']} />
      <button type="submit" className="primary" disabled={change.isPending}>
        Change password
      </button>
    </form>
  );
}

export function PasswordChangePage() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const session = useSession();
  return (
    <main className="centered">
      <div className="card auth-card">
        <h1>Choose a new password</h1>
        {session.data?.password_change_required && <p>Your account was created with a temporary password. Choose your own before you continue.</p>}
        <PasswordChangeForm
          onDone={async () => {
            await queryClient.invalidateQueries({ queryKey: keys.session });
            navigate('/admin', { replace: true });
          }}
        />
      </div>
    </main>
  );
}
