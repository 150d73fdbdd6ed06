import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';

import { api } from '../api/client';
import { QrCode } from '../components/QrCode';
import { Field, FormError, Section, fieldErrorsOf } from '../components/ui';
import { useUser } from '../lib/session';
import { checkRequired, hasErrors } from '../lib/validation';
import { PasswordChangeForm } from './PasswordChangePage';

interface TotpEnrolment {
  secret: string;
  otpauth_uri: string;
}

/// The signed-in operator's own account: password and two-factor authentication.
export function AccountPage() {
  const user = useUser();
  const [passwordChanged, setPasswordChanged] = useState(false);
  return (
    <div className="page">
      <h1>Account</h1>
      <p>
        {user.display_name} ({user.email})
      </p>
      <Section title="Password">
        {passwordChanged && <p className="notice" role="status">Your password was changed.</p>}
        <PasswordChangeForm onDone={() => setPasswordChanged(true)} />
      </Section>
      <TotpSection />
    </div>
  );
}

function TotpSection() {
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const [code, setCode] = useState('');
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [disabled, setDisabled] = useState(false);

  const start = useMutation({
    mutationFn: () => api.post<TotpEnrolment>('/admin/api/session/totp'),
    onSuccess: (reply) => {
      setEnrolment(reply);
      setRecoveryCodes(null);
      setDisabled(false);
    },
  });
  const confirm = useMutation({
    mutationFn: () => api.post<{ recovery_codes: string[] }>('/admin/api/session/totp/confirm', { code: code.trim() }),
    onSuccess: (reply) => {
      setRecoveryCodes(reply.recovery_codes);
      setEnrolment(null);
      setCode('');
    },
    onError: (error) => setErrors(fieldErrorsOf(error)),
  });
  const disable = useMutation({
    mutationFn: () => api.del('/admin/api/session/totp', { password }),
    onSuccess: () => {
      setPassword('');
      setDisabled(true);
    },
    onError: (error) => setErrors(fieldErrorsOf(error)),
  });

  const submitConfirm = (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    checkRequired(found, 'code', code);
    setErrors(found);
    if (!hasErrors(found)) confirm.mutate();
  };
  const submitDisable = (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    checkRequired(found, 'password', password);
    setErrors(found);
    if (!hasErrors(found)) disable.mutate();
  };

  return (
    <Section title="Two-factor authentication">
      <p>An authenticator app's 6-digit code is asked for at every login once this is on.</p>
      {!enrolment && (
        <button type="button" onClick={() => start.mutate()} disabled={start.isPending}>
          Set up an authenticator app
        </button>
      )}
      <FormError error={start.error} />
      {enrolment && (
        <form onSubmit={submitConfirm} noValidate className="totp">
          <QrCode text={enrolment.otpauth_uri} label="QR code for your authenticator app" />
          <p>
            Scan the code, or enter this key by hand: <code className="secret">{enrolment.secret}</code>
          </p>
          <Field label="Code from the app" inputMode="numeric" autoComplete="one-time-code" value={code} onChange={setCode} error={errors.code} />
          <FormError error={confirm.error} shownFields={['code']} />
          <button type="submit" className="primary" disabled={confirm.isPending}>
            Turn on two-factor authentication
          </button>
        </form>
      )}
      {recoveryCodes && (
        <div className="once" role="status">
          <p>
            <strong>Save these recovery codes now.</strong> Each logs you in once without the app; they are not shown again.
          </p>
          <ul className="codes">
            {recoveryCodes.map((recovery) => (
              <li key={recovery}>
                <code>{recovery}</code>
              </li>
            ))}
          </ul>
        </div>
      )}
      {disabled && <p className="notice" role="status">Two-factor authentication is off.</p>}
      <form onSubmit={submitDisable} noValidate>
        <h3>Turn off</h3>
        <Field label="Password to turn off two-factor authentication" type="password" autoComplete="current-password" value={password} onChange={setPassword} error={errors.password} />
        <FormError error={disable.error} shownFields={['password']} />
        <button type="submit" disabled={disable.isPending}>
          Turn off two-factor authentication
        </button>
      </form>
    </Section>
  );
}
