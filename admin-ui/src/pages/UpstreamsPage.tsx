import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type DragEvent, type FormEvent } from 'react';
import { Link } from 'react-router';

import { api } from '../api/client';
import { isOwner, keys, usePoolNames, usePools, useQuotaWindows, useUpstreams } from '../api/queries';
import type { Account, ImportResult } from '../api/types';
import { QuotaBars } from '../components/QuotaBars';
import { RelinkButton, SignInPanel } from '../components/SignInFlows';
import { UpstreamInvitesPanel } from '../components/UpstreamInvites';
import { Badge, EmptyState, Field, FormError, Loading, MultiCheck, QueryError, Section, Select } from '../components/ui';
import { formatRelative } from '../lib/format';
import { authJsonProblem, readFiles, type PickedFile } from '../lib/files';
import { useUser } from '../lib/session';
import { useNow } from '../lib/useNow';

const STATUS_OPTIONS = [
  { value: '', label: 'Any status' },
  { value: 'active', label: 'Active' },
  { value: 'refreshing', label: 'Refreshing' },
  { value: 'reauth_required', label: 'Reauth required' },
  { value: 'paused', label: 'Paused' },
  { value: 'disabled', label: 'Disabled' },
];

export function accountName(account: Account): string {
  return account.label || account.email || account.chatgpt_account_id;
}

export function UpstreamsPage() {
  const user = useUser();
  const pools = usePools();
  const poolNames = usePoolNames();
  const [poolId, setPoolId] = useState('');
  const [status, setStatus] = useState('');
  const [search, setSearch] = useState('');
  const upstreams = useUpstreams({ pool_id: poolId, status, search });
  const queryClient = useQueryClient();
  const now = useNow(30_000);
  const quota = useQuotaWindows();
  const windowsOf = (id: string) => (quota.data?.items ?? []).filter((w) => w.account_id === id);
  const action = useMutation({
    mutationFn: ({ account, verb }: { account: Account; verb: 'pause' | 'resume' | 'delete' }) =>
      verb === 'delete' ? api.del(`/admin/api/upstreams/${account.id}`) : api.post(`/admin/api/upstreams/${account.id}/${verb}`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.upstreams }),
  });
  const poolOptions = [{ value: '', label: 'Any pool' }, ...(pools.data?.items ?? []).map((p) => ({ value: p.id, label: p.name }))];
  return (
    <div className="page">
      <h1>Upstreams</h1>
      <p className="lead">
        The ChatGPT accounts that serve the pools. Add one by importing a Codex auth.json, by signing in (browser or device code) or
        with a hosted invite; tokens are stored encrypted and never shown.
      </p>
      {isOwner(user) && (
        <>
          <ImportPanel />
          <SignInPanel />
          <UpstreamInvitesPanel />
        </>
      )}
      <Section title="Accounts">
        <div className="filters">
          <Select label="Pool" value={poolId} onChange={setPoolId} options={poolOptions} />
          <Select label="Status" value={status} onChange={setStatus} options={STATUS_OPTIONS} />
          <Field label="Search" value={search} onChange={setSearch} placeholder="email, label or account id" />
        </div>
        <FormError error={action.error} />
        {upstreams.isPending && <Loading />}
        {upstreams.isError && <QueryError error={upstreams.error} />}
        {upstreams.data && upstreams.data.items.length === 0 && (
          <EmptyState title={poolId || status || search ? 'No account matches these filters' : 'No upstream accounts yet'}>
            <p>{isOwner(user) ? 'Import auth.json files, sign an account in or send a hosted invite above.' : 'An owner adds accounts to your pools.'}</p>
          </EmptyState>
        )}
        {upstreams.data && upstreams.data.items.length > 0 && (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Account</th>
                <th scope="col">State</th>
                <th scope="col">Plan</th>
                <th scope="col">Quota</th>
                <th scope="col">Pools</th>
                <th scope="col">Last refresh</th>
                <th scope="col">Token expires</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {upstreams.data.items.map((account) => (
                <tr key={account.id} data-testid={`account-${account.chatgpt_account_id}`}>
                  <th scope="row">
                    <Link to={`/admin/upstreams/${account.id}`}>{accountName(account)}</Link>
                    <div className="sub">{account.chatgpt_account_id}</div>
                  </th>
                  <td><Badge value={account.status} /></td>
                  <td>{account.plan_type ?? '–'}</td>
                  <td><QuotaBars windows={windowsOf(account.id)} now={now} /></td>
                  <td>{account.pool_ids.map((id) => poolNames.get(id) ?? id).join(', ') || 'none'}</td>
                  <td>{formatRelative(account.last_refresh_at, now)}</td>
                  <td>{formatRelative(account.access_token_expires_at, now)}</td>
                  <td className="actions">
                    {account.status === 'paused' ? (
                      <button type="button" onClick={() => action.mutate({ account, verb: 'resume' })} aria-label={`Resume ${accountName(account)}`}>
                        Resume
                      </button>
                    ) : (
                      <button type="button" onClick={() => action.mutate({ account, verb: 'pause' })} disabled={account.status !== 'active' && account.status !== 'refreshing'} aria-label={`Pause ${accountName(account)}`}>
                        Pause
                      </button>
                    )}
                    {isOwner(user) && <RelinkButton account={account} name={accountName(account)} />}
                    {isOwner(user) && (
                      <button
                        type="button"
                        className="danger"
                        aria-label={`Delete ${accountName(account)}`}
                        onClick={() => window.confirm(`Delete ${accountName(account)}? Its tokens are erased.`) && action.mutate({ account, verb: 'delete' })}
                      >
                        Delete
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </div>
  );
}

/// Import one or many auth.json files (picker or drag and drop) into chosen pools, with a result
/// per file.
export function ImportPanel({ title = 'Import auth.json files', fixedPoolIds }: { title?: string; fixedPoolIds?: string[] }) {
  const pools = usePools();
  const queryClient = useQueryClient();
  const inputId = useId();
  const [files, setFiles] = useState<PickedFile[]>([]);
  const [poolIds, setPoolIds] = useState<string[]>([]);
  const [dragging, setDragging] = useState(false);
  const [results, setResults] = useState<{ name: string; ok: boolean; text: string }[]>([]);
  const [problem, setProblem] = useState<string | null>(null);

  const importFiles = useMutation({
    mutationFn: (picked: PickedFile[]) =>
      api.post<{ results: ImportResult[] }>('/admin/api/upstreams/import', {
        items: picked.map((file) => file.text),
        pool_ids: fixedPoolIds ?? poolIds,
      }),
    onSuccess: async (reply, picked) => {
      setResults(
        picked.map((file, index) => {
          const result = reply.results[index];
          if (!result) return { name: file.name, ok: false, text: 'no result' };
          if (result.error) return { name: file.name, ok: false, text: result.error.message || result.error.code };
          return { name: file.name, ok: true, text: `imported ${result.account ? accountName(result.account) : ''}` };
        }),
      );
      setFiles([]);
      await queryClient.invalidateQueries({ queryKey: keys.upstreams });
    },
  });

  const take = async (list: FileList | File[]) => {
    const picked = await readFiles(list);
    setFiles(picked);
    setResults([]);
    setProblem(null);
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    void take(event.dataTransfer.files);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (files.length === 0) {
      setProblem('Choose at least one auth.json file.');
      return;
    }
    const bad = files.map((file) => ({ file, why: authJsonProblem(file.text) })).filter((x) => x.why);
    if (bad.length > 0) {
      setResults(bad.map(({ file, why }) => ({ name: file.name, ok: false, text: `${file.name} ${why}` })));
      return;
    }
    importFiles.mutate(files);
  };
  return (
    <Section title={title}>
      <form onSubmit={submit} noValidate>
        <div
          className={`dropzone${dragging ? ' dragging' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
        >
          <label htmlFor={inputId}>auth.json files</label>
          <input id={inputId} type="file" accept=".json,application/json" multiple onChange={(e) => e.target.files && void take(e.target.files)} />
          <p className="hint">Pick or drop one or more files. {files.length > 0 && `${files.length} chosen: ${files.map((f) => f.name).join(', ')}`}</p>
        </div>
        {!fixedPoolIds && (
          <MultiCheck legend="Add to pools" options={(pools.data?.items ?? []).map((p) => ({ value: p.id, label: p.name }))} selected={poolIds} onChange={setPoolIds} />
        )}
        {problem && <p className="form-error" role="alert">{problem}</p>}
        <FormError error={importFiles.error} />
        <button type="submit" className="primary" disabled={importFiles.isPending}>
          Import
        </button>
      </form>
      {results.length > 0 && (
        <ul className="results" aria-label="Import results">
          {results.map((result, index) => (
            <li key={`${result.name}-${index}`}>
              <Badge value={result.ok ? 'imported' : 'failed'} tone={result.ok ? 'ok' : 'bad'} /> {result.name}: {result.text}
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}
