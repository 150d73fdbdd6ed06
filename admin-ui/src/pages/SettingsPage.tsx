import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState, type FormEvent } from 'react';

import { ApiError, api } from '../api/client';
import { keys } from '../api/queries';
import type { Page, Setting } from '../api/types';
import { Badge, Checkbox, Field, FormError, Loading, QueryError, Section, Select, TextArea } from '../components/ui';
import { settingDraft, settingValue } from '../lib/settings';

/// Instance settings as typed forms, one group per prefix (gateway, ingress, …). Secrets are
/// write-only: the page shows whether one is set and takes a new value.
export function SettingsPage() {
  const settings = useQuery({ queryKey: keys.settings, queryFn: () => api.get<Page<Setting>>('/admin/api/settings') });
  const groups = useMemo(() => {
    const byGroup = new Map<string, Setting[]>();
    for (const setting of settings.data?.items ?? []) {
      const group = setting.key.split('.')[0] ?? 'other';
      byGroup.set(group, [...(byGroup.get(group) ?? []), setting]);
    }
    return [...byGroup.entries()];
  }, [settings.data]);
  return (
    <div className="page">
      <h1>Settings</h1>
      <p className="lead">Instance settings, stored in the database and applied at once on every node.</p>
      {settings.isPending && <Loading />}
      {settings.isError && <QueryError error={settings.error} />}
      {groups.map(([group, items]) => (
        <SettingsGroup key={group} group={group} items={items} />
      ))}
    </div>
  );
}

function SettingsGroup({ group, items }: { group: string; items: Setting[] }) {
  const queryClient = useQueryClient();
  const initial = useMemo(() => Object.fromEntries(items.map((s) => [s.key, settingDraft(s)])), [items]);
  const [drafts, setDrafts] = useState<Record<string, string>>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState(false);
  const save = useMutation({
    mutationFn: (changes: Record<string, unknown>) => api.patch('/admin/api/settings', changes),
    onSuccess: async () => {
      setSaved(true);
      await queryClient.invalidateQueries({ queryKey: keys.settings });
    },
    onError: (error) => setErrors(error instanceof ApiError ? error.fields : {}),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    const changes: Record<string, unknown> = {};
    for (const setting of items) {
      const draft = drafts[setting.key] ?? '';
      if (draft === initial[setting.key]) continue;
      const parsed = settingValue(setting, draft);
      if ('error' in parsed) found[setting.key] = parsed.error;
      else changes[setting.key] = parsed.value;
    }
    setErrors(found);
    setSaved(false);
    if (Object.keys(found).length === 0 && Object.keys(changes).length > 0) save.mutate(changes);
  };
  const set = (key: string) => (value: string) => setDrafts({ ...drafts, [key]: value });
  return (
    <Section title={group.charAt(0).toUpperCase() + group.slice(1)}>
      <form onSubmit={submit} noValidate>
        {items.map((setting) => {
          const label = setting.key;
          const error = errors[setting.key];
          const hint = `${setting.description}${setting.source === 'default' ? ' (default)' : ''}`;
          const value = drafts[setting.key] ?? '';
          if (setting.secret) {
            return (
              <div key={setting.key}>
                <Field label={label} type="password" value={value} onChange={set(setting.key)} error={error} hint={`${setting.description}. Currently ${setting.configured ? 'set' : 'not set'}; type a new value to replace it.`} autoComplete="new-password" />
                <Badge value={setting.configured ? 'configured' : 'not_configured'} tone={setting.configured ? 'ok' : 'muted'} />
              </div>
            );
          }
          if (setting.type === 'boolean') {
            return <Checkbox key={setting.key} label={label} checked={value === 'true'} onChange={(checked) => set(setting.key)(String(checked))} hint={hint} />;
          }
          if (setting.allowed) {
            return <Select key={setting.key} label={label} value={value} onChange={set(setting.key)} options={setting.allowed.map((a) => ({ value: a, label: a }))} error={error} hint={hint} />;
          }
          if (setting.type === 'string_list') {
            return <TextArea key={setting.key} label={label} value={value} onChange={set(setting.key)} error={error} hint={`${hint}. One per line.`} rows={3} />;
          }
          if (setting.type === 'bulkhead_table' || (setting.type !== 'integer' && setting.type !== 'string')) {
            return <TextArea key={setting.key} label={label} value={value} onChange={set(setting.key)} error={error} hint={`${hint}. JSON.`} rows={8} />;
          }
          return (
            <Field
              key={setting.key}
              label={label}
              inputMode={setting.type === 'integer' ? 'numeric' : 'text'}
              value={value}
              onChange={set(setting.key)}
              error={error}
              hint={setting.type === 'integer' && setting.min !== undefined ? `${hint}; ${setting.min}–${setting.max}` : hint}
            />
          );
        })}
        <FormError error={save.error} shownFields={items.map((s) => s.key)} />
        {saved && <p className="notice" role="status">Saved.</p>}
        <button type="submit" className="primary" disabled={save.isPending}>
          Save {group} settings
        </button>
      </form>
    </Section>
  );
}
