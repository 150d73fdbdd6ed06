import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';

import { ApiError, api } from '../api/client';
import { keys } from '../api/queries';
import type { SessionUser } from '../api/types';
import { Field, FormError } from '../components/ui';
import { checkEmail, checkRequired, hasErrors } from '../lib/validation';

interface LoginReply {
  user: SessionUser;
  csrf_token: string;
}

/// Email and password; when the account has TOTP, a second step asks for the code or a recovery
/// code.
export function LoginPage() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [params] = useSearchParams();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [secondFactor, setSecondFactor] = useState(false);
  const [useRecovery, setUseRecovery] = useState(false);
  const [code, setCode] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});

  const login = useMutation({
    mutationFn: () =>
      api.post<LoginReply>('/admin/api/session', {
        email: email.trim(),
        password,
        ...(secondFactor && code ? (useRecovery ? { recovery_code: code.trim() } : { totp_code: code.trim() }) : {}),
      }),
    onSuccess: (reply) => {
      queryClient.clear();
      queryClient.setQueryData(keys.session, reply.user);
      const next = params.get('next');
      navigate(reply.user.password_change_required ? '/admin/password' : next && next.startsWith('/admin') ? next : '/admin', { replace: true });
    },
    onError: (error) => {
      if (error instanceof ApiError && error.code === 'totp_required') {
        setSecondFactor(true);
        login.reset();
      }
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    checkEmail(found, 'email', email);
    checkRequired(found, 'password', password);
    if (secondFactor) checkRequired(found, 'code', code);
    setErrors(found);
    if (!hasErrors(found)) login.mutate();
  };

  return (
    <main className="centered">
      <div className="card auth-card">
        <h1>Log in to Codex Pooler</h1>
        {params.get('bootstrapped') && <p className="notice" role="status">The owner was created. Log in with it.</p>}
        <form onSubmit={submit} noValidate>
          <Field label="Email" type="email" autoComplete="username" value={email} onChange={setEmail} error={errors.email} />
          <Field label="Password" type="password" autoComplete="current-password" value={password} onChange={setPassword} error={errors.password} />
          {secondFactor && (
            <>
              <Field
                label={useRecovery ? 'Recovery code' : 'Authentication code'}
                autoComplete="one-time-code"
                inputMode={useRecovery ? 'text' : 'numeric'}
                value={code}
                onChange={setCode}
                error={errors.code}
                hint={useRecovery ? 'One of the recovery codes you saved; each works once.' : 'The 6-digit code from your authenticator app.'}
                autoFocus
              />
              <button type="button" className="link" onClick={() => { setUseRecovery(!useRecovery); setCode(''); }}>
                {useRecovery ? 'Use an authentication code instead' : 'Use a recovery code instead'}
              </button>
            </>
          )}
          <FormError error={login.error} />
          <button type="submit" className="primary" disabled={login.isPending}>
            Log in
          </button>
        </form>
      </div>
    </main>
  );
}
