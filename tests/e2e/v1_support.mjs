// Shared setup of the /v1 SDK suites (openai_sdk.test.mjs, ai_sdk.test.mjs): a fake upstream
// with two accounts, a gateway on SQLite (or CXP_DATABASE_URL) provisioned with one pool and
// one key, and cleanup that keeps the temp dir and prints the gateway log when a test failed.
import { after, before, test } from 'node:test';

import { makeAccount, startPooler, stopPooler } from './support.mjs';

export const REPLIES = {
  'acct-v1-1': 'pong from account one',
  'acct-v1-2': 'pong from account two',
};

/// Registers before/after hooks and returns the context they fill:
/// `{fake, gateway, poolKey, baseUrl (…/v1), accounts}`.
export function v1Suite(prefix) {
  const ctx = { failed: false, accounts: {} };
  before(async () => {
    for (const [id, reply] of Object.entries(REPLIES)) ctx.accounts[id] = makeAccount(id, reply);
    await startPooler(ctx, { prefix, poolName: prefix, accounts: Object.values(ctx.accounts) });
    ctx.baseUrl = `${ctx.gateway.baseUrl}/v1`;
  });
  after(() => stopPooler(ctx));
  ctx.test = (name, fn) =>
    test(name, { timeout: 60_000 }, async (t) => {
      try {
        await fn(t);
      } catch (error) {
        ctx.failed = true;
        throw error;
      }
    });
  /// The fake's recordings made while `action` ran.
  ctx.recordedDuring = async (action) => {
    const before = (await ctx.fake.requests()).length;
    const result = await action();
    const all = await ctx.fake.requests();
    return { result, requests: all.slice(before) };
  };
  return ctx;
}

export const isTurn = (r) => r.method === 'POST' && r.target.split('?')[0] === '/backend-api/codex/responses';
