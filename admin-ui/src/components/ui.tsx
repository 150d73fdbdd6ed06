// Small building blocks every page uses: labelled fields with their error, form-level errors,
// badges, empty states, pagination and the drawer. Each input has a visible <label>, each button
// a text name.
import { useEffect, useId, useRef, type ReactNode } from 'react';

import { ApiError, type FieldErrors } from '../api/client';
import { humanize } from '../lib/format';

interface FieldProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string | undefined;
  type?: string;
  hint?: string;
  autoComplete?: string;
  required?: boolean;
  placeholder?: string;
  inputMode?: 'numeric' | 'text' | 'email';
  autoFocus?: boolean;
}

export function Field({ label, value, onChange, error, type = 'text', hint, autoComplete, required, placeholder, inputMode, autoFocus }: FieldProps) {
  const id = useId();
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type={type}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={described || undefined}
        autoComplete={autoComplete}
        required={required}
        placeholder={placeholder}
        inputMode={inputMode}
        autoFocus={autoFocus}
      />
      {hint && <p id={`${id}-hint`} className="hint">{hint}</p>}
      {error && <p id={`${id}-error`} className="field-error">{error}</p>}
    </div>
  );
}

interface TextAreaProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string | undefined;
  hint?: string;
  rows?: number;
}

export function TextArea({ label, value, onChange, error, hint, rows = 4 }: TextAreaProps) {
  const id = useId();
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        rows={rows}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={described || undefined}
      />
      {hint && <p id={`${id}-hint`} className="hint">{hint}</p>}
      {error && <p id={`${id}-error`} className="field-error">{error}</p>}
    </div>
  );
}

interface SelectProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: { value: string; label: string }[];
  error?: string | undefined;
  hint?: string;
}

export function Select({ label, value, onChange, options, error, hint }: SelectProps) {
  const id = useId();
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={described || undefined}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
      {hint && <p id={`${id}-hint`} className="hint">{hint}</p>}
      {error && <p id={`${id}-error`} className="field-error">{error}</p>}
    </div>
  );
}

export function Checkbox({ label, checked, onChange, hint }: { label: string; checked: boolean; onChange: (checked: boolean) => void; hint?: string }) {
  const id = useId();
  return (
    <div className="field checkbox">
      <input id={id} type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} aria-describedby={hint ? `${id}-hint` : undefined} />
      <label htmlFor={id}>{label}</label>
      {hint && <p id={`${id}-hint`} className="hint">{hint}</p>}
    </div>
  );
}

/// A group of checkboxes choosing ids (pools of an account, an operator or an invite).
export function MultiCheck({ legend, options, selected, onChange, error }: {
  legend: string;
  options: { value: string; label: string }[];
  selected: string[];
  onChange: (next: string[]) => void;
  error?: string | undefined;
}) {
  const id = useId();
  return (
    <fieldset className="field multi" aria-describedby={error ? `${id}-error` : undefined}>
      <legend>{legend}</legend>
      {options.length === 0 && <p className="hint">No pools yet.</p>}
      {options.map((option) => (
        <Checkbox
          key={option.value}
          label={option.label}
          checked={selected.includes(option.value)}
          onChange={(checked) =>
            onChange(checked ? [...selected, option.value] : selected.filter((value) => value !== option.value))
          }
        />
      ))}
      {error && <p id={`${id}-error`} className="field-error">{error}</p>}
    </fieldset>
  );
}

/// Field errors of a failed call: the server's `fields` merged over the client's own checks.
export function fieldErrorsOf(error: unknown): FieldErrors {
  return error instanceof ApiError ? error.fields : {};
}

/// One readable message for an error that is not about a particular field (or lists the fields
/// that no input shows).
export function FormError({ error, shownFields = [] }: { error: unknown; shownFields?: string[] }) {
  if (!error) return null;
  let message: string;
  if (error instanceof ApiError) {
    const unshown = Object.entries(error.fields).filter(([name]) => !shownFields.includes(name));
    if (Object.keys(error.fields).length > 0 && unshown.length === 0) return null;
    message = unshown.length > 0 ? unshown.map(([name, text]) => `${humanize(name)} ${text}`).join('; ') : error.message;
  } else if (error instanceof Error) {
    message = error.message;
  } else {
    message = String(error);
  }
  return (
    <p className="form-error" role="alert">
      {message}
    </p>
  );
}

export function Badge({ value, tone }: { value: string; tone?: 'ok' | 'warn' | 'bad' | 'muted' }) {
  const resolved = tone ?? toneOf(value);
  return <span className={`badge badge-${resolved}`}>{humanize(value)}</span>;
}

export function toneOf(value: string): 'ok' | 'warn' | 'bad' | 'muted' {
  switch (value) {
    case 'active':
    case 'succeeded':
    case 'ready':
    case 'ok':
    case 'accepted':
    case 'success':
    case 'priced':
      return 'ok';
    case 'paused':
    case 'refreshing':
    case 'queued':
    case 'running':
    case 'pending':
    case 'cancelled':
    case 'stale':
      return 'warn';
    case 'reauth_required':
    case 'failed':
    case 'rejected':
    case 'revoked':
    case 'failure':
    case 'denied':
      return 'bad';
    default:
      return 'muted';
  }
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children && <div className="empty-body">{children}</div>}
    </div>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p className="loading" role="status">
      {what}…
    </p>
  );
}

export function QueryError({ error }: { error: unknown }) {
  return <FormError error={error} />;
}

/// Keyset pagination: a stack of the cursors seen, so "Previous" goes back.
export function Pager({ cursors, nextCursor, onChange }: {
  cursors: (string | null)[];
  nextCursor: string | null | undefined;
  onChange: (cursors: (string | null)[]) => void;
}) {
  const page = cursors.length;
  return (
    <nav className="pager" aria-label="Pagination">
      <button type="button" disabled={page <= 1} onClick={() => onChange(cursors.slice(0, -1))}>
        Previous page
      </button>
      <span>Page {page}</span>
      <button type="button" disabled={!nextCursor} onClick={() => nextCursor && onChange([...cursors, nextCursor])}>
        Next page
      </button>
    </nav>
  );
}

/// A modal side panel (native <dialog>: focus stays inside, Escape closes it).
export function Drawer({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog ref={ref} className="drawer" aria-labelledby={titleId} onClose={onClose} onCancel={onClose}>
      <div className="drawer-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <div className="drawer-body">{children}</div>
    </dialog>
  );
}

/// A titled panel.
export function Section({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  const id = useId();
  return (
    <section className="panel" aria-labelledby={id}>
      <div className="panel-head">
        <h2 id={id}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

/// A definition list of label/value pairs.
export function Facts({ items }: { items: [string, ReactNode][] }) {
  return (
    <dl className="facts">
      {items.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
