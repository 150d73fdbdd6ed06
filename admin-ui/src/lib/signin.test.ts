import { describe, expect, it } from 'vitest';

import { callbackProblem, codeExpiry, describeFlow, inviteLink, isFinished, pollIntervalMs } from './signin';

const flow = (status: string, extra: Partial<Parameters<typeof describeFlow>[0]> = {}) =>
  ({ kind: 'device', status, error: null, target_account_id: null, ...extra }) as Parameters<typeof describeFlow>[0];

describe('sign-in flows', () => {
  it('polls at the issuer interval, never faster than every 2 s', () => {
    expect(pollIntervalMs(5)).toBe(5000);
    expect(pollIntervalMs(2)).toBe(2000);
    expect(pollIntervalMs(1)).toBe(2000);
    expect(pollIntervalMs(0)).toBe(2000);
    expect(pollIntervalMs(undefined)).toBe(2000);
    expect(pollIntervalMs(null)).toBe(2000);
    expect(pollIntervalMs(Number.NaN)).toBe(2000);
  });

  it('stops at completed, failed, expired and superseded', () => {
    expect(['completed', 'failed', 'expired', 'superseded'].every(isFinished)).toBe(true);
    expect(isFinished('pending')).toBe(false);
    expect(isFinished('exchanging')).toBe(false);
  });

  it('says what a flow is waiting for', () => {
    expect(describeFlow(flow('pending'))).toEqual({ state: 'waiting', text: 'Waiting for the code to be approved…' });
    expect(describeFlow(flow('pending', { kind: 'browser' })).text).toContain('address the browser landed on');
    expect(describeFlow(flow('exchanging')).state).toBe('waiting');
  });

  it('tells a new account from a relinked one', () => {
    expect(describeFlow(flow('completed'))).toEqual({ state: 'done', text: 'Signed in: the account was added to the pool.' });
    expect(describeFlow(flow('completed', { target_account_id: 'a1' })).text).toBe('Signed in again: the account has new tokens.');
  });

  it("shows the server's message of a failed flow, or a fallback per status", () => {
    const error = { code: 'codex_device_code_timeout', message: 'The device code was not approved in time.' };
    expect(describeFlow(flow('failed', { error }))).toEqual({ state: 'failed', text: error.message });
    expect(describeFlow(flow('expired', { error }))).toEqual({ state: 'failed', text: error.message });
    expect(describeFlow(flow('failed')).text).toBe('The sign-in failed; start again.');
    expect(describeFlow(flow('expired')).text).toContain('expired');
    expect(describeFlow(flow('superseded')).text).toBe('A newer sign-in was started; use the newest one.');
  });

  it('counts down to the code expiry', () => {
    const now = Date.parse('2026-12-05T10:00:00Z');
    expect(codeExpiry('2026-12-05T10:14:03Z', now)).toBe('The code expires in 14m 3s.');
    expect(codeExpiry('2026-12-05T09:59:59Z', now)).toBe('The code expired; start again.');
    expect(codeExpiry('not a time', now)).toBe('');
  });

  it('builds the invite link from the origin and the path', () => {
    expect(inviteLink('https://pool.example.com', '/onboarding/invites/abc')).toBe('https://pool.example.com/onboarding/invites/abc');
    expect(inviteLink('http://127.0.0.1:4000/', 'onboarding/invites/abc')).toBe('http://127.0.0.1:4000/onboarding/invites/abc');
  });

  it('asks for a pasted address with a code or an error in it', () => {
    expect(callbackProblem('  ')).toContain('is required');
    expect(callbackProblem('http://localhost:1455/auth/callback')).toContain('has no code');
    expect(callbackProblem('http://localhost:1455/auth/callback?code=c&state=s')).toBeNull();
    expect(callbackProblem('code=c&state=s')).toBeNull();
    expect(callbackProblem('http://localhost:1455/auth/callback?error=access_denied&state=s')).toBeNull();
  });
});
