// Pure logic of the sign-in flows (browser paste-back, device code, hosted invites): how often a
// device flow is polled, which statuses end a flow, what the operator is told, the invite link.
import type { SignInFlow, SignInFlowStatus } from '../api/types';
import { formatSpan } from './format';

/// Never poll a flow faster than this, whatever interval the issuer asked for.
export const MIN_POLL_SECONDS = 2;

/// Milliseconds between two polls of a device flow: the issuer's interval, at least 2 s.
export function pollIntervalMs(intervalS: number | null | undefined): number {
  const seconds = typeof intervalS === 'number' && Number.isFinite(intervalS) ? intervalS : 0;
  return Math.max(MIN_POLL_SECONDS, seconds) * 1000;
}

const FINISHED: readonly SignInFlowStatus[] = ['completed', 'failed', 'expired', 'superseded'];

/// True once a flow can no longer change (polling stops).
export function isFinished(status: string): boolean {
  return (FINISHED as readonly string[]).includes(status);
}

export interface FlowOutcome {
  state: 'waiting' | 'done' | 'failed';
  text: string;
}

/// What the dashboard says about a flow: waiting, done, or the server's public error message.
export function describeFlow(flow: Pick<SignInFlow, 'kind' | 'status' | 'error' | 'target_account_id'>): FlowOutcome {
  const message = flow.error?.message;
  switch (flow.status) {
    case 'pending':
      return {
        state: 'waiting',
        text: flow.kind === 'device' ? 'Waiting for the code to be approved…' : 'Waiting for the address the browser landed on.',
      };
    case 'exchanging':
      return { state: 'waiting', text: 'Approved; adding the account…' };
    case 'completed':
      return {
        state: 'done',
        text: flow.target_account_id ? 'Signed in again: the account has new tokens.' : 'Signed in: the account was added to the pool.',
      };
    case 'expired':
      return { state: 'failed', text: message ?? 'This sign-in expired before it was finished; start again.' };
    case 'superseded':
      return { state: 'failed', text: message ?? 'A newer sign-in was started; use the newest one.' };
    case 'failed':
    default:
      return { state: 'failed', text: message ?? 'The sign-in failed; start again.' };
  }
}

/// "The code expires in 14m 3s", or that it expired.
export function codeExpiry(expiresAt: string, now: number): string {
  const at = Date.parse(expiresAt);
  if (!Number.isFinite(at)) return '';
  const left = at - now;
  return left > 0 ? `The code expires in ${formatSpan(left)}.` : 'The code expired; start again.';
}

/// The hosted invite link the teammate opens: this dashboard's origin and the answer's path.
export function inviteLink(origin: string, path: string): string {
  return `${origin.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`;
}

/// A client-side check of the pasted callback address (the server checks it fully): null when it
/// may be sent.
export function callbackProblem(pasted: string): string | null {
  const text = pasted.trim();
  if (!text) return 'is required: paste the address the browser landed on';
  if (!text.includes('code=') && !text.includes('error=')) return 'has no code: copy the whole address, including everything after "?"';
  return null;
}
