// Adding an upstream account by sign-in (docs/admin-api.md, "Adding accounts by sign-in"): the
// browser flow (open OpenAI's sign-in page, paste back the localhost:1455 address it lands on),
// the device-code flow (a code approved on OpenAI's device page while the gateway polls), and
// "Sign in again" (relink) for an existing account. Owner only, like the auth.json import.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState, type FormEvent } from 'react';
import { Link } from 'react-router';

import { api } from '../api/client';
import { keys, usePools, useSignInFlow } from '../api/queries';
import type { Account, BrowserFlowStart, DeviceFlowStart, SignInFlow } from '../api/types';
import { callbackProblem, codeExpiry, describeFlow, isFinished, pollIntervalMs } from '../lib/signin';
import { useNow } from '../lib/useNow';
import { Drawer, EmptyState, Field, FormError, Loading, Section, Select, fieldErrorsOf } from './ui';

export type SignInMethod = 'browser' | 'device';

/// A started flow: the browser one comes with the URL to open (shown once: it holds the state).
export type StartedFlow = { kind: 'browser'; flow: SignInFlow; authorizeUrl: string } | { kind: 'device'; flow: SignInFlow };

/// Starts a flow at `path` (a new account, or a relink) and normalizes the answer.
async function startFlow(method: SignInMethod, path: string, body: Record<string, string>): Promise<StartedFlow> {
  if (method === 'browser') {
    const reply = await api.post<BrowserFlowStart>(path, body);
    return { kind: 'browser', flow: reply.flow, authorizeUrl: reply.authorize_url };
  }
  const reply = await api.post<DeviceFlowStart>(path, body);
  return { kind: 'device', flow: reply.flow };
}

/// The panel next to the import: pick a pool, start a browser sign-in or get a device code.
export function SignInPanel() {
  const pools = usePools();
  const options = (pools.data?.items ?? []).filter((p) => p.status === 'active').map((p) => ({ value: p.id, label: p.name }));
  const [chosen, setChosen] = useState('');
  const poolId = options.some((o) => o.value === chosen) ? chosen : (options[0]?.value ?? '');
  const start = useMutation({
    mutationFn: (method: SignInMethod) => startFlow(method, `/admin/api/upstreams/oauth/${method}`, { pool_id: poolId }),
  });
  return (
    <Section title="Sign in an account">
      <p className="hint intro">
        Sign in with the ChatGPT account itself: in your browser (you paste back the address it lands on), or with a device code
        the account owner enters on OpenAI's device page. Nobody copies a token.
      </p>
      {pools.isPending && <Loading />}
      {pools.data && options.length === 0 ? (
        <EmptyState title="No active pool to add an account to">
          <p>Create a pool on <Link to="/admin/pools">Pools</Link> first.</p>
        </EmptyState>
      ) : (
        <div className="inline-form">
          <Select label="Sign in to pool" value={poolId} onChange={setChosen} options={options} />
          <button type="button" onClick={() => start.mutate('browser')} disabled={!poolId || start.isPending}>
            Start browser sign-in
          </button>
          <button type="button" onClick={() => start.mutate('device')} disabled={!poolId || start.isPending}>
            Get a device code
          </button>
        </div>
      )}
      <FormError error={start.error} />
      {start.data && <FlowView key={start.data.flow.id} started={start.data} />}
    </Section>
  );
}

/// A started flow of either kind, with its steps and its outcome.
export function FlowView({ started }: { started: StartedFlow }) {
  return started.kind === 'browser' ? <BrowserFlow flow={started.flow} authorizeUrl={started.authorizeUrl} /> : <DeviceFlow initial={started.flow} />;
}

function BrowserFlow({ flow: initial, authorizeUrl }: { flow: SignInFlow; authorizeUrl: string }) {
  const queryClient = useQueryClient();
  const headingId = useId();
  const [pasted, setPasted] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const complete = useMutation({
    mutationFn: () => api.post<{ flow: SignInFlow }>('/admin/api/upstreams/oauth/browser/complete', { callback_url: pasted.trim() }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.upstreams }),
  });
  const flow = complete.data?.flow ?? initial;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const why = callbackProblem(pasted);
    setProblem(why);
    if (!why) complete.mutate();
  };
  return (
    <div className="signin-flow" role="group" aria-labelledby={headingId}>
      <h3 id={headingId}>Browser sign-in</h3>
      {isFinished(flow.status) ? (
        <FlowOutcome flow={flow} />
      ) : (
        <>
          <ol className="steps">
            <li>
              <a href={authorizeUrl} target="_blank" rel="noopener noreferrer" data-testid="authorize-url">
                Open the OpenAI sign-in page
              </a>{' '}
              (a new tab) and sign in with the ChatGPT account to add.
            </li>
            <li>
              Your browser then lands on <code>http://localhost:1455/auth/callback?…</code>. That page usually does not load; this
              is expected. Copy the whole address from the address bar.
            </li>
            <li>Paste it here within 10 minutes. The link works once.</li>
          </ol>
          <form onSubmit={submit} noValidate>
            <Field
              label="Address the browser landed on"
              value={pasted}
              onChange={setPasted}
              placeholder="http://localhost:1455/auth/callback?code=…&state=…"
              autoComplete="off"
              error={problem ?? fieldErrorsOf(complete.error).callback_url}
            />
            <FormError error={complete.error} shownFields={['callback_url']} />
            <button type="submit" className="primary" disabled={complete.isPending}>
              Complete sign-in
            </button>
          </form>
        </>
      )}
    </div>
  );
}

function DeviceFlow({ initial }: { initial: SignInFlow }) {
  const queryClient = useQueryClient();
  const headingId = useId();
  const now = useNow(1000);
  const poll = useSignInFlow(initial, (f) => pollIntervalMs(f.interval_s ?? initial.interval_s), (f) => isFinished(f.status));
  const flow = poll.data ?? initial;
  const finished = isFinished(flow.status);
  useEffect(() => {
    if (flow.status === 'completed') void queryClient.invalidateQueries({ queryKey: keys.upstreams });
  }, [flow.status, queryClient]);
  const code = initial.user_code;
  const verificationUrl = flow.verification_url ?? initial.verification_url;
  return (
    <div className="signin-flow" role="group" aria-labelledby={headingId}>
      <h3 id={headingId}>Device code</h3>
      {!finished && (
        <>
          <p>
            Open{' '}
            {verificationUrl ? (
              <a href={verificationUrl} target="_blank" rel="noopener noreferrer" data-testid="verification-url">
                {verificationUrl}
              </a>
            ) : (
              "OpenAI's device page"
            )}{' '}
            and enter this code:
          </p>
          {code && (
            <p className="user-code" data-testid="device-user-code">
              {code}
            </p>
          )}
          {initial.instructions && <p data-testid="device-instructions">{initial.instructions}</p>}
          <p className="hint">{codeExpiry(flow.expires_at, now)}</p>
        </>
      )}
      {poll.isError && !finished && <FormError error={poll.error} />}
      <FlowOutcome flow={flow} />
    </div>
  );
}

/// The flow's state as a live status line; once completed, the account it added or relinked.
function FlowOutcome({ flow }: { flow: SignInFlow }) {
  const outcome = describeFlow(flow);
  const tone = outcome.state === 'done' ? 'notice' : outcome.state === 'failed' ? 'form-error' : 'hint';
  return (
    <div role="status" aria-live="polite" data-testid="sign-in-outcome">
      <p className={tone}>{outcome.text}</p>
      {outcome.state === 'done' && flow.account_id && <SignedInAccount id={flow.account_id} />}
    </div>
  );
}

function SignedInAccount({ id }: { id: string }) {
  const account = useQuery({ queryKey: [...keys.upstreams, id], queryFn: () => api.get<Account>(`/admin/api/upstreams/${id}`) });
  const who = account.data ? (account.data.email ?? account.data.chatgpt_account_id) : id;
  return (
    <p>
      Account: <Link to={`/admin/upstreams/${id}`}>{who}</Link>
      {account.data && <span className="sub"> (ChatGPT account {account.data.chatgpt_account_id})</span>}
    </p>
  );
}

/// "Sign in again" for an existing account (any status, reauth_required above all): starts a
/// relink flow and shows it in a drawer. The same ChatGPT account must sign in; another one is
/// refused as identity_mismatch.
export function RelinkButton({ account, name, method = 'device', label = 'Sign in again' }: {
  account: Account;
  name: string;
  method?: SignInMethod;
  label?: string;
}) {
  const [open, setOpen] = useState(false);
  const start = useMutation({
    mutationFn: () => startFlow(method, `/admin/api/upstreams/${account.id}/relink`, { method }),
  });
  const close = () => {
    setOpen(false);
    start.reset();
  };
  return (
    <>
      <button
        type="button"
        aria-label={`${label}: ${name}`}
        disabled={start.isPending}
        onClick={() => {
          setOpen(true);
          start.mutate();
        }}
      >
        {label}
      </button>
      {open && (
        <Drawer title={`Sign in again: ${name}`} onClose={close}>
          <p>
            Sign in with the same ChatGPT account ({account.email ?? account.chatgpt_account_id}); its tokens are replaced and it
            keeps its pools. Another ChatGPT account is refused.
          </p>
          {start.isPending && <Loading what="Starting the sign-in" />}
          <FormError error={start.error} />
          {start.data && <FlowView key={start.data.flow.id} started={start.data} />}
        </Drawer>
      )}
    </>
  );
}
